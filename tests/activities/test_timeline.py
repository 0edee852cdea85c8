"""Timelines: entries about a record (and a company's people), scoped, filtered, paged."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kontor.activities import communication, services
from kontor.activities.entry_types import NOTE
from kontor.contacts import services as contacts
from kontor.core import services as records
from kontor.core import timeline, types
from kontor.core.errors import ValidationFailed
from kontor.core.models import TimelineLink

from ..utils.clients import Api, browser

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_co(org):
    """A company of Sales Team 1 with two people."""
    company = contacts.create_company({"name": "Baustoff GmbH"}, actor=org.member_a)
    anna = contacts.create_person(
        {"first_name": "Anna", "last_name": "Schmidt", "company_id": company.pk},
        actor=org.member_a,
    )
    boris = contacts.create_person(
        {"first_name": "Boris", "last_name": "Weber", "company_id": company.pk},
        actor=org.member_a,
    )
    return company, anna, boris


def note(actor, body, *about, minutes_ago=0):
    return communication.NOTES.create(
        {
            "body": body,
            "noted_at": timezone.now() - timedelta(minutes=minutes_ago),
            "links": [f"{types.by_model(type(r)).name}:{r.pk}" for r in about],
        },
        actor=actor,
    )


def titles(user, record, **kwargs) -> list[str]:
    return [str(e.obj) for e in timeline.feed(user, record, **kwargs).entries]


def test_a_persons_timeline_and_the_companys_with_its_people(org, client_co):
    company, anna, boris = client_co
    note(org.member_a, "Anna asked for prices", anna, minutes_ago=30)
    note(org.member_a, "Boris called back", boris, minutes_ago=20)
    note(org.member_a, "Visit planned", company, anna, minutes_ago=10)

    assert titles(org.member_a, anna) == ["Visit planned", "Anna asked for prices"]
    # The company's: its own and its people's, newest first, an entry about both once.
    assert titles(org.member_a, company) == [
        "Visit planned",
        "Boris called back",
        "Anna asked for prices",
    ]
    visit = timeline.feed(org.member_a, company).entries[0]
    assert [link.name for link in visit.about] == ["Anna Schmidt"]


def test_entries_are_scoped_by_their_own_type_and_placement(org, client_co):
    company, anna, _boris = client_co
    note(org.member_a, "Team 1 note", anna)
    # Team 2's note about the same person: its own department's.
    theirs = communication.NOTES.create({"body": "Team 2 note"}, actor=org.member_c)
    timeline.set_links(theirs, [anna])

    assert titles(org.member_b, anna) == ["Team 1 note"]
    assert set(titles(org.sales_head, anna)) == {"Team 1 note", "Team 2 note"}
    # Moving the note (an owner and department change) moves its timeline copies.
    records.bulk_update(
        NOTE,
        [theirs.pk],
        {"owner_id": org.member_b.pk, "department_id": org.dept.team1.pk},
        actor=org.sales_head,
    )
    assert set(titles(org.member_b, anna)) == {"Team 1 note", "Team 2 note"}


def test_links_to_hidden_records_are_unknown_and_never_named(org, client_co):
    _company, anna, _boris = client_co
    hidden = contacts.create_person(
        {"first_name": "Hidden", "last_name": "Person"}, actor=org.member_c
    )
    with pytest.raises(ValidationFailed) as failed:
        note(org.member_a, "About someone", hidden)
    assert failed.value.errors == {"links": ["Unknown person."]}

    shared = note(org.member_c, "About both", hidden)
    timeline.set_links(shared, [hidden, anna])
    records.bulk_update(
        NOTE,
        [shared.pk],
        {"department_id": org.dept.sales.pk},
        actor=org.sales_head,
    )
    entry = timeline.feed(org.sales_head, anna).entries[0]
    assert [link.name for link in entry.about] == ["Hidden Person"]  # the head sees it
    # member_a sees Sales' records? No: a member's scope is their department only.
    assert titles(org.member_a, anna) == []


def test_kind_and_text_filters_and_pages_without_gaps_or_repeats(org, client_co):
    _company, anna, _boris = client_co
    for i in range(35):
        note(org.member_a, f"Note {i:02d}", anna, minutes_ago=100 - i)
    call = communication.CALLS.create(
        {
            "their_number": "+49 30 1234567",
            "summary": "Discussed delivery",
            "links": [f"person:{anna.pk}"],
        },
        actor=org.member_a,
    )
    assert call.their_number == "+49301234567"

    first = timeline.feed(org.member_a, anna)
    assert len(first.entries) == timeline.PAGE_SIZE and first.next_cursor
    second = timeline.feed(org.member_a, anna, cursor=first.next_cursor)
    seen = [str(e.obj) for e in first.entries + second.entries]
    assert len(seen) == 36 == len(set(seen)) and not second.next_cursor
    assert seen[0] == str(call) and seen[1] == "Note 34" and seen[-1] == "Note 00"

    assert titles(org.member_a, anna, kinds=["call"]) == [str(call)]
    assert titles(org.member_a, anna, text="delivery") == [str(call)]
    assert titles(org.member_a, anna, kinds=["note"], text="Note 07") == ["Note 07"]


def test_deleting_an_entry_or_its_subject_removes_the_links(org, client_co):
    company, anna, boris = client_co
    entry = note(org.member_a, "About Anna and Boris", anna, boris)
    # Anna, Boris, and their company (through them).
    assert TimelineLink.objects.count() == 3
    contacts.delete_person(anna, actor=org.sales_head)
    assert TimelineLink.objects.count() == 2
    communication.NOTES.delete(entry, actor=org.sales_head)
    assert TimelineLink.objects.count() == 0
    assert titles(org.member_a, company) == []


def test_a_task_set_from_a_persons_page_is_on_their_timeline(org, client_co):
    _company, anna, _boris = client_co
    page = browser(org.member_a)
    timeline_url = f"/people/{anna.pk}/timeline/"
    shown = page.get(timeline_url)
    assert shown.status_code == 200 and 'data-testid="quick-add"' in shown.content.decode()

    made = page.post(
        "/tasks/new/",
        {
            "title": "Send the price list",
            "due_date": "2026-12-10",
            "links": f"person:{anna.pk}",
            "next": timeline_url,
        },
    )
    assert made.status_code == 302 and made["Location"] == timeline_url
    task = services.Task.objects.get(title="Send the price list")
    assert titles(org.member_a, anna) == ["Send the price list"]
    assert "Send the price list" in page.get(timeline_url).content.decode()
    # Another site is not a way back.
    elsewhere = page.post(
        "/notes/new/", {"body": "x", "links": f"person:{anna.pk}", "next": "https://evil.example/"}
    )
    assert elsewhere["Location"].startswith("/notes/")
    assert task.owner == org.member_a


def test_infinite_scroll_sends_the_next_entries_only(org, client_co):
    _company, anna, _boris = client_co
    for i in range(timeline.PAGE_SIZE + 3):
        note(org.member_a, f"Entry {i:02d}", anna, minutes_ago=100 - i)
    page = browser(org.member_a)
    cursor = timeline.feed(org.member_a, anna).next_cursor
    more = page.get(
        f"/people/{anna.pk}/timeline/",
        {"after": cursor},
        headers={"HX-Request": "true", "HX-Target": "timeline-more"},
    )
    html = more.content.decode()
    assert more.status_code == 200 and "<html" not in html
    assert html.count('data-testid="timeline-entry"') == 3 and "Entry 00" in html


def test_the_api_reads_a_timeline_and_hides_what_the_reader_cannot_see(org, client_co):
    company, anna, _boris = client_co
    note(org.member_a, "Visit planned", company, anna)
    answer = Api(org.member_a).get(f"/activities?record=company:{company.pk}")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [i["title"] for i in body["items"]] == ["Visit planned"] and body["next"] == ""
    assert body["items"][0]["about"][0]["name"] == "Anna Schmidt"

    assert Api(org.member_c).get(f"/activities?record=company:{company.pk}").status_code == 404
    assert Api(org.member_a).get("/activities?record=company:999999").status_code == 404
    assert Api(org.member_a).get("/activities?record=nothing").status_code == 422
    bad_kind = Api(org.member_a).get(f"/activities?record=company:{company.pk}&kind=fax")
    assert bad_kind.status_code == 422

    made = Api(org.member_a).post(
        "/notes", {"body": "From the API", "links": [{"type": "person", "id": anna.pk}]}
    )
    assert made.status_code == 201, made.content
    assert made.json()["links"] == [{"type": "person", "id": anna.pk, "name": "Anna Schmidt"}]
    hidden = contacts.create_person({"first_name": "Hid", "last_name": "Den"}, actor=org.member_c)
    refused = Api(org.member_a).post(
        "/notes", {"body": "x", "links": [{"type": "person", "id": hidden.pk}]}
    )
    assert refused.status_code == 422 and refused.json()["errors"] == {"links": ["Unknown person."]}


def test_email_html_is_sanitised_when_stored(org):
    email = communication.EMAILS.create(
        {
            "subject": "Offer",
            "body_html": '<p onclick="steal()">Hello<script>alert(1)</script></p>'
            '<a href="javascript:alert(2)">x</a><img src=x onerror=alert(3)>',
        },
        actor=org.member_a,
    )
    assert "script" not in email.body_html and "onclick" not in email.body_html
    assert "javascript:" not in email.body_html and "onerror" not in email.body_html
    assert "<p>Hello</p>" in email.body_html
    page = browser(org.member_a).get(f"/emails/{email.pk}/").content.decode()
    assert "alert(1)" not in page and "<p>Hello</p>" in page


def test_a_bulk_import_links_its_rows_and_cleans_them_as_a_single_write(org, client_co):
    from kontor.activities.entry_types import CALL, EMAIL
    from kontor.core import bulk

    company, anna, _boris = client_co
    hidden = contacts.create_person({"first_name": "Hid", "last_name": "Den"}, actor=org.member_c)
    result = bulk.import_rows(
        CALL,
        [
            {
                "their_number": "+49 30 1234567",
                "summary": "Imported",
                "links": [f"person:{anna.pk}"],
            },
            {"summary": "Hidden link", "links": [f"person:{hidden.pk}"]},
            {"summary": "Nowhere", "links": ["planet:3"]},
        ],
        actor=org.member_a,
    )
    assert result.created == 1
    assert [(e.row, e.field, e.message) for e in result.errors] == [
        (2, "links", "Unknown person."),
        (3, "links", "Unknown record."),
    ]
    assert titles(org.member_a, company) == ["Outgoing call · +49301234567"]
    emails = bulk.import_rows(
        EMAIL, [{"subject": "Hi", "body_html": "<p>Hi<script>x()</script></p>"}], actor=org.member_a
    )
    assert EMAIL.model.objects.get(pk=emails.ids[0]).body_html == "<p>Hi</p>"


def test_a_person_moving_to_another_company_takes_their_entries_along(org, client_co):
    company, anna, boris = client_co
    other = contacts.create_company({"name": "Neubau AG"}, actor=org.member_a)
    entry = note(org.member_a, "About Anna and Boris", anna, boris)
    contacts.update_person(anna, {"company_id": other.pk}, actor=org.member_a)
    assert titles(org.member_a, company) == ["About Anna and Boris"]  # through Boris
    assert titles(org.member_a, other) == ["About Anna and Boris"]  # through Anna
    contacts.update_person(boris, {"company_id": None}, actor=org.member_a)
    assert titles(org.member_a, company) == []
    # Linked to the company itself as well: still one entry on its timeline.
    communication.NOTES.update(
        entry, {"links": [f"company:{other.pk}", f"person:{anna.pk}"]}, actor=org.member_a
    )
    assert titles(org.member_a, other) == ["About Anna and Boris"]
    assert [link.name for link in timeline.feed(org.member_a, other).entries[0].about] == [
        "Anna Schmidt"
    ]
    contacts.delete_company(other, actor=org.sales_head)
    assert titles(org.member_a, anna) == ["About Anna and Boris"]


def test_a_meeting_is_on_its_participants_timelines_and_their_companies(org, client_co):
    from kontor.calendar import services as meetings

    company, anna, boris = client_co
    meeting = meetings.create_meeting(
        {
            "title": "Site visit",
            "start": "2026-12-10T09:00:00",
            "end": "2026-12-10T10:00:00",
            "people_ids": [anna.pk],
        },
        actor=org.member_a,
    )
    assert titles(org.member_a, anna) == ["Site visit"]
    assert titles(org.member_a, company) == ["Site visit"]
    # Quick add from Boris's page: he joins the participants.
    made = browser(org.member_a).post(
        "/meetings/new/",
        {
            "title": "Offer talk",
            "start": "2026-12-11T09:00",
            "end": "2026-12-11T09:30",
            "links": f"person:{boris.pk}",
            "next": f"/people/{boris.pk}/timeline/",
        },
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    assert titles(org.member_a, boris) == ["Offer talk"]
    assert list(type(meeting).objects.get(title="Offer talk").people.all()) == [boris]
    meetings.update_meeting(meeting, {"people_ids": [boris.pk]}, actor=org.member_a)
    assert titles(org.member_a, anna) == []
    assert titles(org.member_a, boris) == ["Offer talk", "Site visit"]


def test_a_bulk_import_of_meetings_writes_their_contacts_and_timelines(org, client_co):
    from kontor.calendar.models import Meeting
    from kontor.calendar.types import MEETING
    from kontor.core import bulk

    company, anna, _boris = client_co
    hidden = contacts.create_person({"first_name": "Hid", "last_name": "Den"}, actor=org.member_c)
    window = {"start": "2026-12-10T09:00:00", "end": "2026-12-10T10:00:00"}
    result = bulk.import_rows(
        MEETING,
        [
            {"title": "Imported visit", **window, "people_ids": [anna.pk]},
            {"title": "Hidden guest", **window, "people_ids": [hidden.pk]},
        ],
        actor=org.member_a,
    )
    assert result.created == 1
    assert {(e.row, e.field) for e in result.errors} == {(2, "people_ids"), (2, "links")}
    assert list(Meeting.objects.get(title="Imported visit").people.all()) == [anna]
    assert titles(org.member_a, company) == ["Imported visit"]
