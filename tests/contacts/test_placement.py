"""Where a record may be put: a department inside the actor's own scope for the action.

Owning a record does not widen where it may go (a member owning a record cannot file it
in another department), through the API, the form, the bulk actions and the import.
A hidden owner or department id answers exactly as an id that names nothing.
"""

import re

import pytest
from django.urls import reverse

from kontor.accounts import services as accounts
from kontor.contacts import bulk, services
from kontor.contacts.models import Company, Person
from kontor.contacts.types import PERSON
from kontor.core import services as records
from kontor.core.access import SYSTEM

from .test_api import Api

ABSENT = 999_999


def person_of(user, **data):
    return services.create_person({"first_name": "Pat", **data}, actor=user)


def answer(response) -> tuple[int, dict]:
    return response.status_code, response.json()


# -- API -----------------------------------------------------------------------------------


def test_member_cannot_create_a_record_they_own_in_another_department(org):
    api = Api(org.member_a)
    hidden = api.post("/people", {"first_name": "X", "department_id": org.dept.support.pk})
    absent = api.post("/people", {"first_name": "X", "department_id": ABSENT})

    assert hidden.status_code == 403
    assert answer(hidden) == answer(absent)
    assert not Person.objects.exists()


def test_member_cannot_move_a_record_they_own_to_another_department(org):
    mine = person_of(org.member_a)
    api = Api(org.member_a)

    answers = [
        answer(api.patch(f"/people/{mine.pk}", {"department_id": pk, "version": mine.version}))
        for pk in (org.dept.support.pk, org.dept.sales.pk, ABSENT)
    ]

    assert answers[0][0] == 403
    assert answers[0] == answers[1] == answers[2]
    mine.refresh_from_db()
    assert mine.department == org.dept.team1


def test_member_cannot_take_a_record_out_of_every_department(org):
    mine = person_of(org.member_a)

    response = Api(org.member_a).patch(
        f"/people/{mine.pk}", {"department_id": None, "version": mine.version}
    )

    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.department == org.dept.team1


def test_member_keeps_editing_a_record_they_own_in_another_department(org):
    """An administrator may hand a member a record elsewhere: the member still edits it."""
    theirs = services.create_person(
        {"first_name": "Pat", "owner_id": org.member_a.pk, "department_id": org.dept.support.pk},
        actor=org.admin,
    )

    response = Api(org.member_a).patch(
        f"/people/{theirs.pk}",
        {"notes": "called", "department_id": org.dept.support.pk, "version": theirs.version},
    )

    assert response.status_code == 200, response.content
    theirs.refresh_from_db()
    assert (theirs.notes, theirs.department) == ("called", org.dept.support)


def test_head_places_records_within_their_subtree(org):
    response = Api(org.sales_head).post(
        "/companies",
        {"name": "Acme", "owner_id": org.member_c.pk, "department_id": org.dept.team2.pk},
    )

    assert response.status_code == 201, response.content
    company = Company.objects.get()
    assert (company.owner, company.department) == (org.member_c, org.dept.team2)


def test_head_gets_the_same_answer_for_a_hidden_and_an_absent_department(org):
    api = Api(org.sales_head)
    hidden = api.post("/companies", {"name": "Acme", "department_id": org.dept.support.pk})
    absent = api.post("/companies", {"name": "Acme", "department_id": ABSENT})
    parent = api.post("/companies", {"name": "Acme", "department_id": org.dept.root.pk})

    assert hidden.status_code == 403
    assert answer(hidden) == answer(absent) == answer(parent)
    assert not Company.objects.exists()


def test_head_gets_the_same_answer_for_a_hidden_and_an_absent_owner(org, make_user):
    api = Api(org.sales_head)
    inactive = make_user("gone@example.com", department=org.dept.team1)
    accounts.update_user(inactive, {"is_active": False}, actor=SYSTEM)

    answers = [
        answer(api.post("/people", {"first_name": "X", "owner_id": pk}))
        for pk in (org.support_member.pk, org.admin.pk, inactive.pk, ABSENT)
    ]

    assert answers[0] == (
        422,
        {"detail": answers[0][1]["detail"], "errors": {"owner_id": ["Unknown user."]}},
    )
    assert answers[0] == answers[1] == answers[2] == answers[3]
    assert not Person.objects.exists()


def test_admin_is_told_an_unknown_owner_or_department_by_field(org):
    api = Api(org.admin)

    response = api.post("/people", {"first_name": "X", "owner_id": ABSENT, "department_id": ABSENT})

    assert response.status_code == 422
    assert response.json()["errors"] == {
        "owner_id": ["Unknown user."],
        "department_id": ["Unknown department."],
    }


def test_an_id_beyond_any_column_is_unknown_not_a_crash(org):
    response = Api(org.admin).post("/people", {"first_name": "X", "owner_id": 2**63})

    # The API's schema bounds ids to 64 bits before the service sees them.
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["owner_id"]


def test_head_reassigning_to_a_hidden_owner_is_unknown_and_changes_nothing(org):
    record = person_of(org.member_a)
    api = Api(org.sales_head)

    answers = [
        answer(api.patch(f"/people/{record.pk}", {"owner_id": pk, "version": record.version}))
        for pk in (org.support_member.pk, ABSENT)
    ]

    assert answers[0][0] == 422
    assert answers[0] == answers[1]
    record.refresh_from_db()
    assert record.owner == org.member_a


# -- form ----------------------------------------------------------------------------------


FIELD_ERROR = re.compile(r'<div class="field-error">([^<]*)</div>')


def form_answer(client, url, data) -> tuple[int, list[str]]:
    response = client.post(url, data)
    return response.status_code, FIELD_ERROR.findall(response.content.decode())


@pytest.mark.parametrize("field", ["owner_id", "department_id"])
def test_form_answers_a_hidden_id_as_an_absent_one(client, org, field):
    client.force_login(org.sales_head)
    url = reverse("contacts:company_create")
    hidden = org.support_member.pk if field == "owner_id" else org.dept.support.pk

    answers = [
        form_answer(client, url, {"name": "Acme", field: pk, "save_anyway": "1"})
        for pk in (hidden, ABSENT)
    ]

    assert answers[0] == answers[1]
    assert answers[0][0] in (403, 422)
    assert not Company.objects.exists()


def test_form_says_unknown_user_beside_the_owner(client, org):
    client.force_login(org.sales_head)

    status, errors = form_answer(
        client,
        reverse("contacts:company_create"),
        {"name": "Acme", "owner_id": org.support_member.pk, "save_anyway": "1"},
    )

    assert (status, [e.strip() for e in errors]) == (422, ["Unknown user."])


@pytest.mark.parametrize("field", ["owner_id", "department_id"])
def test_edit_form_answers_a_hidden_id_as_an_absent_one(client, org, field):
    mine = person_of(org.member_a, last_name="Mine")
    client.force_login(org.sales_head)
    url = reverse("contacts:person_edit", args=[mine.pk])
    hidden = org.support_member.pk if field == "owner_id" else org.dept.support.pk
    form = {"first_name": "Pat", "last_name": "Mine", "version": mine.version}

    answers = [form_answer(client, url, form | {field: pk}) for pk in (hidden, ABSENT)]

    assert answers[0] == answers[1]
    assert answers[0][0] == (422 if field == "owner_id" else 403)
    mine.refresh_from_db()
    assert (mine.owner, mine.department) == (org.member_a, org.dept.team1)


def test_form_refuses_a_member_filing_their_record_elsewhere(client, org):
    mine = person_of(org.member_a, last_name="Mine")
    client.force_login(org.member_a)

    response = client.post(
        reverse("contacts:person_edit", args=[mine.pk]),
        {
            "first_name": "Pat",
            "last_name": "Mine",
            "owner_id": org.member_a.pk,
            "department_id": org.dept.support.pk,
            "version": mine.version,
        },
    )

    assert response.status_code == 403
    assert "You cannot place a record in this department." in response.content.decode()
    mine.refresh_from_db()
    assert mine.department == org.dept.team1


# -- bulk and import -----------------------------------------------------------------------


def test_bulk_move_skips_a_record_the_member_owns_but_may_not_place_there(org):
    mine = person_of(org.member_a)

    result = records.bulk_update(
        PERSON, [mine.pk], {"department_id": org.dept.support.pk}, actor=org.member_a
    )

    assert (result.done, result.skipped, result.missing) == (0, [mine], 0)
    mine.refresh_from_db()
    assert mine.department == org.dept.team1


def test_import_rows_answer_a_hidden_department_as_an_absent_one(org):
    rows = [
        {"first_name": "Hidden", "department_id": org.dept.support.pk},
        {"first_name": "Absent", "department_id": ABSENT},
        {"first_name": "Hidden owner", "owner_id": org.support_member.pk},
        {"first_name": "Absent owner", "owner_id": ABSENT},
        {"first_name": "Mine"},
    ]

    result = bulk.import_people(rows, actor=org.sales_head)

    errors = {e.row: (e.field, str(e.message)) for e in result.errors}
    assert errors[1] == errors[2]
    assert errors[3] == errors[4] == ("owner_id", "Unknown user.")
    assert result.created == 1
    assert list(Person.objects.values_list("first_name", flat=True)) == ["Mine"]
