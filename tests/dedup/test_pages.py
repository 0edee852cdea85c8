"""The Duplicates page, the merge form, the scan's progress, undo; and the API."""

from django.urls import reverse

from kontor.contacts import services as contacts
from kontor.contacts.models import Person
from kontor.dedup import services
from kontor.dedup.models import Candidate, Merge, Scan
from tests.utils.clients import Api, browser


def two_annas(org):
    keep = contacts.create_person(
        {"first_name": "Anna", "last_name": "Schmidt", "emails": [{"address": "a@x.test"}]},
        actor=org.member_a,
    )
    gone = contacts.create_person(
        {
            "first_name": "Anna",
            "last_name": "Schmitt",
            "position": "Buyer",
            "emails": [{"address": "a@x.test"}, {"address": "anna@y.test"}],
        },
        actor=org.member_a,
    )
    services.start_scan(org.sales_head, "contacts.person")
    return keep, gone, Candidate.objects.get()


def test_the_page_lists_pairs_with_reasons_and_a_scan_runs_from_it(org):
    keep, gone, _pair = two_annas(org)
    page = browser(org.member_a).get(reverse("dedup:list"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Anna Schmidt" in html and "Anna Schmitt" in html and "same email" in html
    assert "Find duplicates" in html
    response = browser(org.sales_head).post(reverse("dedup:scan"), {"type": "person"})
    assert response.status_code == 302
    scan = Scan.objects.first()
    assert scan.status == Scan.Status.DONE and scan.pairs == 1
    progress = browser(org.sales_head).get(reverse("dedup:scan_progress", args=[scan.pk]))
    assert "1 pair found" in progress.content.decode()
    # Companies: the other tab; nobody who may not see the records sees the pairs.
    assert (
        "no-duplicates"
        in browser(org.member_a).get(reverse("dedup:list") + "?type=company").content.decode()
    )
    assert "Anna" not in browser(org.member_c).get(reverse("dedup:list")).content.decode()
    assert browser(org.member_a).get(reverse("dedup:list") + "?type=deal").status_code == 404


def test_a_name_pair_shows_the_signal_that_seconds_it(org):
    acme = contacts.create_company({"name": "Acme"}, actor=org.member_a)
    one, other = (
        contacts.create_person(
            {"first_name": "Jonathan", "last_name": last, "company_id": acme.pk},
            actor=org.member_a,
        )
        for last in ("Miller", "Millar")
    )
    contacts.create_person({"first_name": "Jonathan", "last_name": "Miler"}, actor=org.member_a)
    services.start_scan(org.sales_head, "contacts.person")
    listing = browser(org.member_a).get(reverse("dedup:list")).content.decode()
    assert "similar name" in listing and "same employer" in listing
    assert "Miler" not in listing  # a namesake with nothing else in common
    hint = browser(org.member_a).get(reverse("contacts:person_detail", args=[one.pk]))
    assert "similar name, same employer" in hint.content.decode()
    (item,) = Api(org.member_a).get("/duplicates?type=person").json()["items"]
    assert item["reasons"] == ["name", "employer"]
    assert {item["first"]["id"], item["second"]["id"]} == {one.pk, other.pk}


def test_the_hint_on_a_persons_page_and_the_list_link(org):
    keep, gone, pair = two_annas(org)
    html = browser(org.member_a).get(reverse("contacts:person_detail", args=[keep.pk])).content
    assert b"possible-duplicates" in html and b"Anna Schmitt" in html
    listing = browser(org.member_a).get(reverse("contacts:person_list")).content.decode()
    assert reverse("dedup:list") + "?type=person" in listing


def test_merge_form_picks_per_field_then_undo(org):
    keep, gone, pair = two_annas(org)
    client = browser(org.sales_head)
    url = reverse("dedup:merge", args=[pair.pk])
    form = client.get(url)
    assert form.status_code == 200 and 'name="field:last_name"' in form.content.decode()
    response = client.post(
        url,
        {
            "keep": "second",
            "field:last_name": "first",
            "list:emails": "both",
            "version:first": keep.version,
            "version:second": gone.version,
        },
    )
    log = Merge.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "dedup:merge_done", args=[log.pk]
    )
    survivor = Person.objects.get()
    assert (survivor.pk, survivor.last_name, survivor.position) == (gone.pk, "Schmidt", "Buyer")
    assert sorted(e.address for e in survivor.emails.all()) == ["a@x.test", "anna@y.test"]
    done = client.get(response["Location"])
    assert "Undo the merge" in done.content.decode()
    client.post(reverse("dedup:undo", args=[log.pk]))
    assert Person.objects.count() == 2


def test_a_stale_form_is_refused_and_kept(org):
    keep, gone, pair = two_annas(org)
    contacts.update_person(keep, {"position": "CEO"}, actor=org.member_a)
    response = browser(org.sales_head).post(
        reverse("dedup:merge", args=[pair.pk]),
        {"keep": "first", "version:first": keep.version - 1, "version:second": gone.version},
    )
    assert response.status_code == 409
    assert "Review the pair again" in response.content.decode()
    assert Person.objects.count() == 2


def test_dismissing_from_the_page(org):
    keep, gone, pair = two_annas(org)
    browser(org.member_c).post(reverse("dedup:dismiss", args=[pair.pk]))  # not theirs: 404
    assert Candidate.objects.get().dismissed_at is None
    browser(org.member_a).post(reverse("dedup:dismiss", args=[pair.pk]))
    assert Candidate.objects.get().dismissed_at is not None


def test_the_api_lists_merges_and_undoes(org):
    keep, gone, pair = two_annas(org)
    api = Api(org.sales_head)
    listed = api.get("/duplicates?type=person").json()
    assert listed["count"] == 1
    assert listed["items"][0]["reasons"] == ["email", "name"]
    assert {listed["items"][0]["first"]["id"], listed["items"][0]["second"]["id"]} == {
        keep.pk,
        gone.pk,
    }
    assert Api(org.member_c).get("/duplicates?type=person").json()["count"] == 0
    assert api.post("/duplicates/scans", {"type": "company"}).status_code == 202
    stale = api.post(
        "/merges",
        {"type": "person", "survivor_id": keep.pk, "merged_id": gone.pk, "versions": [1, 99]},
    )
    assert stale.status_code == 409
    made = api.post(
        "/merges",
        {
            "type": "person",
            "survivor_id": keep.pk,
            "merged_id": gone.pk,
            "choices": {"position": "merged"},
        },
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["survivor"]["id"] == keep.pk and body["merged_id"] == gone.pk
    assert Person.objects.get().position == "Buyer"
    undone = api.post(f"/merges/{body['id']}/undo")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    assert api.post(f"/merges/{body['id']}/undo").status_code == 409
    assert (
        Api(org.member_a)
        .post("/merges", {"type": "person", "survivor_id": keep.pk, "merged_id": gone.pk})
        .status_code
        == 403
    )
    assert api.post("/duplicates/999/dismiss").status_code == 404
