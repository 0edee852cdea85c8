"""The duplicate finder: each reason, fuzzy names in both scripts seconded by another
signal (namesakes are not offered), blocking bounds, access-scoped candidates,
dismissing a pair."""

import pytest

from kontor.contacts import services as contacts
from kontor.contacts.models import Person
from kontor.dedup import finder, services
from kontor.dedup.models import Candidate, Scan

PEOPLE = finder.SPECS["contacts.person"]
COMPANIES = finder.SPECS["contacts.company"]


BORN = "1980-05-17"


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


def company(actor, name, **data):
    return contacts.create_company({"name": name, **data}, actor=actor)


def test_same_tax_id_finds_companies_and_legal_forms_do_not_make_names_alike(org):
    a = company(org.member_a, "Ромашка", tax_id="7701234567")
    b = company(org.member_a, "Daisy Ltd", tax_id="7701234567")
    c = company(org.member_a, "ООО Ромашка")
    company(org.member_a, "ООО Лютик")
    # The same name, but another tax id: another legal entity, never offered with ``a``.
    d = company(org.member_a, "Romashka LLC", tax_id="7709999999")
    scan(org.member_a, "contacts.company")
    found = pairs(org.member_a, "contacts.company")
    assert found[key(a, b)] == (100, ["tax_id"])
    # A company's very name, legal form aside, seconds itself; it scores below 100.
    assert found[key(a, c)] == (99, ["same_name"])
    assert found[key(c, d)] == (99, ["same_name"])
    assert len(found) == 3  # "ООО Лютик" shares only its legal form with "ООО Ромашка"


def test_companies_with_alike_names_need_a_city_website_or_domain(org):
    moscow = [{"city": "Москва"}]
    a = company(org.member_a, "Vostok Trade", addresses=moscow)
    b = company(
        org.member_a, "Vostok Traid", addresses=[{"city": "Moskva", "street": "Tverskaya 1"}]
    )
    company(org.member_a, "Vostock Trade", addresses=[{"city": "Kazan"}])  # another firm
    c = company(org.member_a, "Nordwind GmbH", website="https://www.nordwind.example.de/")
    d = company(org.member_a, "Nord Wind AG", website="http://nordwind.example.de")
    e = company(org.member_a, "Lumière SARL", emails=[{"address": "info@lumiere.test"}])
    f = company(org.member_a, "Lumieres", emails=[{"address": "ventes@lumiere.test"}])
    company(org.member_a, "Lumierre", emails=[{"address": "lumierre@gmail.com"}])
    scan(org.member_a, "contacts.company")
    assert {
        k: reasons for k, (_score, reasons) in pairs(org.member_a, "contacts.company").items()
    } == {
        key(a, b): ["name", "city"],
        key(c, d): ["name", "website"],
        key(e, f): ["name", "email_domain"],
    }


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
    employer = company(org.member_a, "Acme").pk
    a = person(org.member_a, *one, company_id=employer)
    b = person(org.member_a, *other, company_id=employer)
    person(org.member_a, "Someone", "Else", company_id=employer)
    scan(org.member_a)
    found = pairs(org.member_a)
    assert list(found) == [key(a, b)]
    score, reasons = found[key(a, b)]
    assert reasons in (["name", "employer"], ["same_name", "employer"]) and score >= 88


def test_namesakes_are_not_offered_and_respelt_duplicates_with_a_second_signal_are(org):
    """A name alone (the same or alike) is not enough: another fact must agree."""
    acme, globex = (company(org.member_a, name).pk for name in ("Acme", "Globex"))

    def twins(one: str, other: str, facts=None, other_facts=None):
        a = person(org.member_a, *one.split(), **(facts or {}))
        b = person(org.member_a, *other.split(), **(other_facts or facts or {}))
        return key(a, b)

    def lives(street, city):
        return {"addresses": [{"street": street, "city": city}]}

    def mails(address):
        return {"emails": [{"address": address}]}

    def calls(number):
        return {"phones": [{"number": number}]}

    # Namesakes: different people, not offered.
    namesakes = {
        twins("Ivan Petrov", "Ivan Petrov"),  # nothing else known
        twins("Sergei Volkov", "Sergey Volkov", {"company_id": acme}, {"company_id": globex}),
        twins("Anna Morel", "Anna Morel", lives("1 rue A", "Paris"), lives("9 rue B", "Paris")),
        # A public mail service says nothing.
        twins("Olga Smirnova", "Olga Smirnova", mails("olga.s@mail.ru"), mails("os@mail.ru")),
        # The same employer, but two known birthdays: two people.
        twins(
            "John Smith",
            "John Smith",
            {"company_id": acme, "birthday": "1970-01-02"},
            {"company_id": acme, "birthday": "1991-03-04"},
        ),
    }
    # Duplicates spelt differently that share one more fact: offered, with it as the reason.
    offered = {
        twins("Jonathan Miller", "Jonathon Miller", {"company_id": acme}): ["name", "employer"],
        twins("Пётр Иванов", "Petr Ivanov", {"birthday": BORN}): ["same_name", "birthday"],
        twins(
            "Marie Dubois",
            "Marie Duboiss",
            lives("3, Rue de la Paix", "Lyon"),
            lives("3 rue de la paix", "LYON"),
        ): ["name", "address"],
        twins("Karl Weber", "Carl Weber", mails("kw@weber.test"), mails("karl.weber@weber.test")): [
            "name",
            "email_domain",
        ],
        twins("Nina Popova", "Nina Popowa", calls("+7 495 123-45-67"), calls("+7 499 123-45-67")): [
            "name",
            "phone_ending",
        ],
    }
    scan(org.member_a)
    found = pairs(org.member_a)
    assert not namesakes & set(found)
    assert {k: reasons for k, (_score, reasons) in found.items()} == offered
    assert all(score < 100 for score, _reasons in found.values())


@pytest.mark.parametrize("flush_every", [1, finder.FLUSH_PAIRS])
def test_reasons_add_up_and_different_people_are_not_offered(org, monkeypatch, flush_every):
    # Written a pair at a time, the reasons found by each pass are united in the table.
    monkeypatch.setattr(finder, "FLUSH_PAIRS", flush_every)
    mail = [{"address": "ml@example.com"}]
    a = person(org.member_a, "Maria", "Lopez", emails=mail, birthday=BORN)
    b = person(org.member_a, "Mariа", "Lopez", emails=mail, birthday=BORN)  # a Cyrillic "а"
    person(org.member_a, "Marta", "Gomez", birthday=BORN)
    person(org.member_a, "Pierre", "Lopez-Fontaine", birthday=BORN)
    scan(org.member_a)
    assert pairs(org.member_a) == {key(a, b): (100, ["email", "same_name", "birthday"])}
    # A reason that no longer holds leaves the pair at the next scan; the score follows.
    contacts.update_person(b, {"emails": [], "first_name": "Marie"}, actor=org.member_a)
    scan(org.member_a)
    ((score, reasons),) = pairs(org.member_a).values()
    assert reasons == ["name", "birthday"] and 88 <= score < 100


def test_a_block_larger_than_the_bound_is_compared_by_neighbours_only(settings):
    """Blocking keeps comparisons per record bounded, whatever the block's size."""
    size = finder.MAX_BLOCK * 3
    names = {pk: f"ivan surname{pk:05d}" for pk in range(size)}
    found = {}
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
    mine = person(org.member_a, "Olga", "Kravtsova", birthday=BORN)
    other_team = person(org.member_c, "Olga", "Kravtsova", birthday=BORN)
    also_mine = person(org.member_a, "Olga", "Kravtsowa", birthday=BORN)
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
    a = person(org.member_a, "Anton", "Orlov", birthday=BORN)
    b = person(org.member_a, "Anton", "Orlow", birthday=BORN)
    scan(org.member_a)
    (candidate,) = services.visible_candidates(org.member_a, "contacts.person")
    services.dismiss(org.member_a, candidate.pk)
    assert pairs(org.member_a) == {}
    scan(org.member_a)
    assert pairs(org.member_a) == {}
    assert Candidate.objects.get(pk=candidate.pk).dismissed_by == org.member_a
    # A pair no longer alike leaves the list at the next scan.
    c = person(org.member_a, "Anton", "Orlof", birthday=BORN)
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
