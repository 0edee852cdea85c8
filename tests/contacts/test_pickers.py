"""Pickers and filters offer only what the user may see or choose; bulk actions on a mixed
selection change what the user may and name what they skipped; "My records"."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from kontor.accounts.models import Role, RoleGrant
from kontor.contacts import queries, services
from kontor.contacts.models import Company, Person
from kontor.core.access import Action, Scope

from .test_api import Api

OPTION = re.compile(r'<option value="([^"]+)"[^>]*>([^<]*)</option>')


def person_of(user, **data):
    return services.create_person({"first_name": "Pat", **data}, actor=user)


def offered(html: str, name: str) -> set[str]:
    """The labels of the options of the select called ``name`` (its first occurrence), but
    a list filter's "none" (the records without an owner or a department)."""
    select = html[html.index(f'name="{name}"') :]
    select = select[: select.index("</select>")]
    return {label.strip() for pk, label in OPTION.findall(select) if pk != "none"}


def page(client, user, url_name, *args, **params) -> str:
    client.force_login(user)
    return client.get(reverse(url_name, args=args), params).content.decode()


def bulk_select(html: str, name: str) -> set[str]:
    return offered(html[html.index("data-bulk-bar") :], name)


# -- owners --------------------------------------------------------------------------------


def test_list_filter_offers_the_owners_a_member_can_see(client, org):
    html = page(client, org.member_a, "contacts:person_list")
    assert '<option value="none" >Nobody</option>' in html

    # member_a sees Sales Team 1: its users and themselves, nobody from elsewhere.
    assert offered(html, "owner_id") == {
        "anna@example.com",
        "boris@example.com",
        "nobody@example.com",
    }


def test_list_filter_offers_an_admin_every_active_user(client, org, make_user):
    gone = make_user("gone@example.com", department=org.dept.team1)
    gone.is_active = False
    gone.save()

    owners = offered(page(client, org.admin, "contacts:company_list"), "owner_id")

    assert "sam@example.com" in owners and "clara@example.com" in owners
    assert "gone@example.com" not in owners
    assert len(owners) == 8


def test_head_offers_owners_of_their_subtree(client, org):
    html = page(client, org.sales_head, "contacts:person_create")

    assert offered(html, "owner_id") == {
        "head@example.com",
        "anna@example.com",
        "boris@example.com",
        "nobody@example.com",
        "clara@example.com",
    }


def test_member_creates_records_only_for_themselves_so_only_they_are_offered(client, org):
    html = page(client, org.member_a, "contacts:person_create")

    assert offered(html, "owner_id") == {"anna@example.com"}


def test_bulk_assign_offers_whom_the_user_may_hand_records_to(client, org):
    person_of(org.member_a)

    html = page(client, org.member_a, "contacts:person_list")

    # The filter shows the team; a member may only keep records, so assigns only to themselves.
    assert bulk_select(html, "owner_id") == {"anna@example.com"}
    assert bulk_select(html, "department_id") == {"Sales Team 1"}


def test_edit_form_keeps_the_current_owner_and_department_on_offer(client, org):
    """A record placed by an admin outside the head's choices is not moved by saving it."""
    record = services.create_person(
        {"first_name": "Pat", "owner_id": org.admin.pk, "department_id": org.dept.team1.pk},
        actor=org.admin,
    )
    html = page(client, org.sales_head, "contacts:person_edit", record.pk)

    assert "admin@example.com" in offered(html, "owner_id")
    selected = re.search(r'<option value="(\d+)" selected>', html[html.index('name="owner_id"') :])
    assert int(selected[1]) == org.admin.pk

    response = client.post(
        reverse("contacts:person_edit", args=[record.pk]),
        {
            "first_name": "Pat",
            "notes": "kept",
            "owner_id": org.admin.pk,
            "department_id": org.dept.team1.pk,
            "version": record.version,
        },
    )

    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.owner, record.notes) == (org.admin, "kept")


# -- departments ---------------------------------------------------------------------------


def test_department_filter_offers_only_departments_in_scope(client, org):
    member = offered(page(client, org.member_a, "contacts:person_list"), "department_id")
    head = offered(page(client, org.sales_head, "contacts:company_list"), "department_id")
    admin = offered(page(client, org.admin, "contacts:person_list"), "department_id")

    assert member == {"Sales Team 1"}
    assert head == {"Sales", "Sales Team 1", "Sales Team 2"}
    assert admin == {"Company", "Sales", "Sales Team 1", "Sales Team 2", "Support"}


def test_pickers_follow_a_role_granted_on_one_type_only(client, org, make_user):
    """Departments and owners come from the grants on that type, not from the settings area."""
    role = Role.objects.create(name="company viewer")
    RoleGrant.objects.create(
        role=role, object_type="contacts.company", action=Action.VIEW, scope=int(Scope.ALL)
    )
    viewer = make_user("viewer@example.com", department=org.dept.support)
    viewer.roles.add(role)

    companies = page(client, viewer, "contacts:company_list")
    people = page(client, viewer, "contacts:person_list")

    assert len(offered(companies, "department_id")) == 5
    assert offered(people, "department_id") == set()
    assert offered(people, "owner_id") == set()


# -- tags ----------------------------------------------------------------------------------


def tag_options(client, user, url_name, shape="filter", **params) -> set[str]:
    """The tags the list's filter (or the bulk bar's datalist) offers, read after the page."""
    html = page(client, user, url_name, tag_options=shape, **params)
    return {label.strip() for _value, label in OPTION.findall(html)} - {"Any"}


def test_tags_offered_are_those_on_records_the_user_can_see(client, org):
    person_of(org.member_a, tags=["Team1"])
    person_of(org.support_member, tags=["SupportOnly"])
    services.create_company({"name": "Acme", "tags": ["CompanyOnly"]}, actor=org.member_a)

    member = tag_options(client, org.member_a, "contacts:person_list")
    admin = tag_options(client, org.admin, "contacts:person_list")
    companies = tag_options(client, org.member_a, "contacts:company_list")

    assert member == {"Team1"}
    assert admin == {"Team1", "SupportOnly"}
    assert companies == {"CompanyOnly"}


def test_the_list_page_asks_for_its_tags_after_it_shows(client, org):
    person_of(org.member_a, tags=["Team1"])
    person_of(org.member_a, tags=["Other"])
    html = page(client, org.member_a, "contacts:person_list", tag="team1")
    assert offered(html, "tag") == {"team1"}  # the chosen tag before the list loads
    assert "tag_options=filter" in html and "tag_options=datalist" in html
    chosen = page(client, org.member_a, "contacts:person_list", tag="team1", tag_options="filter")
    assert '<option value="Team1" selected>' in chosen
    datalist = page(client, org.member_a, "contacts:person_list", tag_options="datalist")
    assert set(re.findall(r'<option value="([^"]*)">', datalist)) == {"Team1", "Other"}


@pytest.mark.parametrize("user_name", ["member_a", "admin", "nobody"])
def test_tags_in_use_query(org, user_name):
    person_of(org.member_a, tags=["Team1", "Shared"])
    person_of(org.member_c, tags=["Team2", "Shared"])
    services.create_company({"name": "Acme", "tags": ["CompanyOnly"]}, actor=org.admin)
    expected = {
        "member_a": ["Shared", "Team1"],
        "admin": ["Shared", "Team1", "Team2"],
        "nobody": [],
    }[user_name]

    tags = queries.tags_in_use(getattr(org, user_name), Person)

    assert [t.name for t in tags] == expected


# -- "My records" --------------------------------------------------------------------------


def test_mine_filter_in_the_api(org):
    mine = person_of(org.member_a, last_name="Mine")
    person_of(org.member_b, last_name="Colleague")
    company = services.create_company({"name": "Mine Ltd"}, actor=org.member_a)
    services.create_company({"name": "Theirs Ltd"}, actor=org.member_b)
    api = Api(org.member_a)

    people = api.get("/people?mine=true").json()
    companies = api.get("/companies?mine=true").json()
    everyone = api.get("/people?mine=false").json()

    assert [p["id"] for p in people["items"]] == [mine.pk]
    assert people["count"] == 1
    assert [c["id"] for c in companies["items"]] == [company.pk]
    assert everyone["count"] == 2


def test_mine_checkbox_on_the_list_and_its_export(client, org):
    person_of(org.sales_head, last_name="Mine")
    person_of(org.member_b, last_name="Colleague")

    # As the form sends it: a hidden "false", then the checkbox's "true" when ticked.
    client.force_login(org.sales_head)
    url = reverse("contacts:person_list")
    checked = client.get(url, {"mine": ["false", "true"]}).content.decode()
    unchecked = client.get(url, {"mine": "false"}).content.decode()

    assert "Pat Mine" in checked and "Pat Colleague" not in checked
    assert re.search(r'name="mine" value="true" checked', checked)
    assert "Pat Colleague" in unchecked
    export = re.search(r'href="(/api/v1/people/export\?[^"]*format=csv[^"]*)"', checked)[1]
    response = client.get(export.replace("&amp;", "&"))
    rows = b"".join(response.streaming_content).decode()
    assert "Mine" in rows and "Colleague" not in rows


# -- bulk actions on a mixed selection -----------------------------------------------------


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_bulk_tag_changes_what_the_member_may_and_names_what_was_skipped(client, org):
    mine = person_of(org.member_a, last_name="Mine")
    colleague = person_of(org.member_b, last_name="Colleague")
    hidden = person_of(org.support_member, last_name="Hidden")
    client.force_login(org.member_a)

    response = client.post(
        reverse("contacts:person_bulk"),
        {"ids": [mine.pk, colleague.pk, hidden.pk, 999_999], "action": "tag", "tag": "Hot"},
    )

    assert [t.name for t in mine.tags.all()] == ["Hot"]
    assert not colleague.tags.exists() and not hidden.tags.exists()
    said = messages_of(response)
    assert said == [
        "Tag “Hot” added to 1 record.",
        "Skipped 1 record you may not change: Pat Colleague.",
        "2 selected records were not found.",
    ]
    assert not any("Hidden" in m for m in said)


def test_bulk_delete_skips_what_the_role_may_not_delete(client, org, make_user):
    role = Role.objects.create(name="deleter")
    RoleGrant.objects.bulk_create(
        [
            RoleGrant(role=role, object_type="*", action=Action.VIEW, scope=int(Scope.SUBTREE)),
            RoleGrant(role=role, object_type="*", action=Action.DELETE, scope=int(Scope.OWN)),
        ]
    )
    user = make_user("deleter@example.com", department=org.dept.team1)
    user.roles.add(role)
    own = services.create_company({"name": "Own"}, actor=org.admin)
    services.update_company(own, {"owner_id": user.pk}, actor=org.admin)
    other = services.create_company(
        {"name": "Other", "department_id": org.dept.team1.pk}, actor=org.admin
    )
    client.force_login(user)

    response = client.post(
        reverse("contacts:company_bulk"), {"ids": [own.pk, other.pk], "action": "delete"}
    )

    assert list(Company.objects.values_list("name", flat=True)) == ["Other"]
    assert messages_of(response) == [
        "1 record deleted.",
        "Skipped 1 record you may not change: Other.",
    ]


def test_bulk_assign_with_an_owner_out_of_reach_changes_nothing(client, org):
    a = person_of(org.member_a)
    b = person_of(org.member_b)
    client.force_login(org.sales_head)

    response = client.post(
        reverse("contacts:person_bulk"),
        {"ids": [a.pk, b.pk], "action": "owner", "owner_id": org.support_member.pk},
    )

    assert messages_of(response) == ["Unknown user."]
    assert set(Person.objects.values_list("owner_id", flat=True)) == {
        org.member_a.pk,
        org.member_b.pk,
    }


def test_bulk_move_to_a_department(client, org):
    a = person_of(org.member_a)
    c = person_of(org.member_c)
    client.force_login(org.sales_head)

    response = client.post(
        reverse("contacts:person_bulk"),
        {"ids": [a.pk, c.pk], "action": "department", "department_id": org.dept.sales.pk},
    )

    assert messages_of(response) == ["Department changed on 2 records."]
    assert set(Person.objects.values_list("department_id", flat=True)) == {org.dept.sales.pk}


def test_bulk_without_the_right_at_all_is_refused_whole(client, org):
    mine = person_of(org.member_a)
    client.force_login(org.member_a)

    response = client.post(reverse("contacts:person_bulk"), {"ids": [mine.pk], "action": "delete"})

    assert messages_of(response) == ["You do not have permission to do this."]
    assert Person.objects.filter(pk=mine.pk).exists()
