"""The duplicate finder: each reason, fuzzy names in both scripts, blocking bounds,
access-scoped candidates, dismissing a pair."""

import pytest
from django.utils import timezone

from kontor.contacts import services as contacts
from kontor.contacts.models import Person
from kontor.dedup import finder, services
from kontor.dedup.models import Candidate, Scan

PEOPLE = finder.SPECS["contacts.person"]
COMPANIES = finder.SPECS["contacts.company"]


def person(actor, first, last="", **data):
    return contacts.create_person({"first_name": first, "last_name": last, **data}, actor=actor)


def scan(actor, object_type="contacts.person") -> Scan:
    started = services.start_scan(actor, object_type)
    started.refresh_from_db()  # the job ran when queued (tests' immediate backend)
    return started


def pairs(actor, object_type="contacts.person") -> dict:
    return {
        (c.first_id, c.second_id): (c.score, c.reason_names)
        for c in services.visible_candidates(actor, object_type)
    }


def key(a, b):
    return (min(a.pk, b.pk), max(a.pk, b.pk))


def test_same_email_and_same_phone_are_found_whatever_the_spelling(org):
    a = person(org.member_a, "Anna", "Schmidt", emails=[{"address": "Anna@Example.com"}])
    b = person(org.member_a, "Hanna", "Smith", emails=[{"address": "anna@example.COM"}])
    c = person(org.member_a, "Carl", "Xu", phones=[{"number": "+7 495 123-45-67"}])
    d = person(org.member_a, "Dora", "Yi", phones=[{"number": "8 (495) 1234567"}])
    person(org.member_a, "Emil", "Zorn")
    done = scan(org.member_a)
    assert done.status == Scan.Status.DONE and done.percent == 100
    found = pairs(org.member_a)
    assert found == {key(a, b): (100, ["email"]), key(c, d): (100, ["phone"])}


def test_same_tax_id_finds_companies_and_legal_forms_do_not_make_names_alike(org):
    a = contacts.create_company({"name": "Ромашка", "tax_id": "7701234567"}, actor=org.member_a)
    b = contacts.create_company({"name": "Daisy Ltd", "tax_id": "7701234567"}, actor=org.member_a)
    c = contacts.create_company({"name": "ООО Ромашка"}, actor=org.member_a)
    contacts.create_company({"name": "ООО Лютик"}, actor=org.member_a)
    scan(org.member_a, "contacts.company")
    found = pairs(org.member_a, "contacts.company")
    assert found[key(a, b)] == (100, ["tax_id"])
    assert found[key(a, c)] == (99, ["name"])  # a name alone scores below 100
    assert len(found) == 2  # "ООО Лютик" shares only its legal form with "ООО Ромашка"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("Jonathan", "Smith"), ("Jonathon", "Smith")),
        (("Пётр", "Иванов"), ("Петр", "Иванов")),
        (("Екатерина", "Смирнова"), ("Смирнова", "Екатерина")),  # swapped
        (("Ivan", "Petrov"), ("Иван", "Петров")),  # across scripts
    ],
)
def test_fuzzy_names_in_latin_and_cyrillic(org, one, other):
    a = person(org.member_a, *one)
    b = person(org.member_a, *other)
    person(org.member_a, "Someone", "Else")
    scan(org.member_a)
    found = pairs(org.member_a)
    assert list(found) == [key(a, b)]
    score, reasons = found[key(a, b)]
    assert reasons == ["name"] and score >= 88


@pytest.mark.parametrize("flush_every", [1, finder.FLUSH_PAIRS])
def test_reasons_add_up_and_different_people_are_not_offered(org, monkeypatch, flush_every):
    # Written a pair at a time, the reasons found by each pass are united in the table.
    monkeypatch.setattr(finder, "FLUSH_PAIRS", flush_every)
    a = person(org.member_a, "Maria", "Lopez", emails=[{"address": "ml@example.com"}])
    b = person(org.member_a, "Mariа", "Lopez", emails=[{"address": "ml@example.com"}])
    person(org.member_a, "Marta", "Gomez")
    person(org.member_a, "Pierre", "Lopez-Fontaine")
    scan(org.member_a)
    assert pairs(org.member_a) == {key(a, b): (100, ["email", "name"])}
    # A reason that no longer holds leaves the pair at the next scan; the score follows.
    contacts.update_person(b, {"emails": [], "first_name": "Marie"}, actor=org.member_a)
    scan(org.member_a)
    ((score, reasons),) = pairs(org.member_a).values()
    assert reasons == ["name"] and 88 <= score < 100


def test_a_block_larger_than_the_bound_is_compared_by_neighbours_only(settings):
    """Blocking keeps comparisons per record bounded, whatever the block's size."""
    size = finder.MAX_BLOCK * 3
    names = {pk: f"ivan surname{pk:05d}" for pk in range(size)}
    found = finder.Pairs("contacts.person", timezone.now())
    made = finder.compare_block(list(names), names, 99, found)
    assert made <= size * finder.WINDOW
    small = {pk: names[pk] for pk in range(10)}
    assert finder.compare_block(list(small), small, 99, found) == 45  # all pairs
    # A block key is a token's beginning, transliterated: both scripts share it.
    assert finder.block_keys(finder.name_key(PEOPLE, "Пётр", "Иванов")) == {"petr", "ivan"}
    assert finder.name_key(COMPANIES, "ООО «Ромашка»") == "romashka"


def test_a_value_shared_by_too_many_records_names_no_one(org, monkeypatch):
    monkeypatch.setattr(finder, "MAX_BLOCK", 3)
    for i in range(4):
        person(org.member_a, f"Caller{i}", f"Q{i}x", phones=[{"number": "+7 495 000-00-00"}])
    scan(org.member_a)
    assert pairs(org.member_a) == {}


def test_candidates_are_those_whose_both_records_the_user_sees(org):
    mine = person(org.member_a, "Olga", "Kravtsova")
    other_team = person(org.member_c, "Olga", "Kravtsova")
    also_mine = person(org.member_a, "Olga", "Kravtsowa")
    scan(org.admin)
    assert set(pairs(org.admin)) == {
        key(mine, other_team),
        key(mine, also_mine),
        key(other_team, also_mine),
    }
    assert set(pairs(org.member_a)) == {key(mine, also_mine)}
    assert set(pairs(org.member_c)) == set()
    hidden = Candidate.objects.get(first_id=mine.pk, second_id=other_team.pk)
    with pytest.raises(services.NotFound):
        services.candidate_for(org.member_a, hidden.pk)
    with pytest.raises(services.NotFound):
        services.dismiss(org.member_a, hidden.pk)


def test_a_dismissed_pair_is_remembered_across_scans(org):
    a = person(org.member_a, "Anton", "Orlov")
    b = person(org.member_a, "Anton", "Orlow")
    scan(org.member_a)
    (candidate,) = services.visible_candidates(org.member_a, "contacts.person")
    services.dismiss(org.member_a, candidate.pk)
    assert pairs(org.member_a) == {}
    scan(org.member_a)
    assert pairs(org.member_a) == {}
    assert Candidate.objects.get(pk=candidate.pk).dismissed_by == org.member_a
    # A pair no longer alike leaves the list at the next scan.
    c = person(org.member_a, "Anton", "Orlof")
    scan(org.member_a)
    assert set(pairs(org.member_a)) == {key(a, c), key(b, c)}
    contacts.update_person(c, {"last_name": "Zimmermann"}, actor=org.member_a)
    scan(org.member_a)
    assert pairs(org.member_a) == {}


def test_scanning_needs_edit_rights_and_reports_progress(org):
    with pytest.raises(services.PermissionDenied):
        scan(org.nobody)
    for i in range(30):
        person(org.member_a, f"Name{i}", f"Family{i}")
    seen = []
    finder.scan(PEOPLE, lambda done, total: seen.append((done, total)))
    assert seen[-1] == (60, 60)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    assert Person.objects.count() == 30
