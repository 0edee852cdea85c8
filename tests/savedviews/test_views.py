"""Saved views: the rules (who sees, who shares how far, unique names, audit), the list
page saving and opening one, and /api/v1/views."""

import re

import pytest
from django.http import QueryDict
from django.urls import reverse

from kontor.contacts import services as contacts
from kontor.core import types
from kontor.core.errors import NotFound, PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry
from kontor.savedviews import services
from kontor.savedviews.models import SavedView
from tests.web.test_custom_field_pages import person_fields  # noqa: F401 (a fixture)

PEOPLE = types.get("contacts.person")
COMPANIES = types.get("contacts.company")


def make(actor, name="Gold clients", rt=PEOPLE, **data):
    return services.create(rt, {"name": name, **data}, actor=actor)


def names(user, rt=PEOPLE) -> list[str]:
    return [view.name for view in services.seen_for_type(user, rt)]


@pytest.fixture
def tiers(org, request):
    request.getfixturevalue("person_fields")  # the "tier" choice field
    for first, tier in (("Anna", "gold"), ("Boris", "silver"), ("Clara", "gold")):
        contacts.create_person({"first_name": first, "custom": {"tier": tier}}, actor=org.member_a)


# -- rules -----------------------------------------------------------------------------------


def test_names_are_unique_per_owner_and_type_and_every_write_is_audited(org):
    view = make(org.member_a, query={"q": "smith", "custom": ["tier:gold"]}, columns=["name"])
    assert view.query == {"q": ["smith"], "custom": ["tier:gold"]}
    created = AuditEntry.objects.get(action="savedviews.savedview.created")
    assert created.actor_id == org.member_a.pk and created.changes["name"] == [None, "Gold clients"]
    with pytest.raises(ValidationFailed) as refused:
        make(org.member_a, name="  gold   CLIENTS ")
    assert "name" in refused.value.errors
    make(org.member_b)  # another owner
    make(org.member_a, rt=COMPANIES)  # another type
    view = services.update(
        view, {"name": "Gold", "query": {"sort": "-created_at"}}, actor=org.member_a
    )
    updated = AuditEntry.objects.get(action="savedviews.savedview.updated")
    assert updated.changes["name"] == ["Gold clients", "Gold"]
    assert updated.changes["query"][1] == {"sort": ["-created_at"]}
    view_id = view.pk
    services.delete(view, actor=org.member_a)
    deleted = AuditEntry.objects.get(action="savedviews.savedview.deleted")
    assert deleted.object_id == view_id and deleted.changes["name"] == ["Gold", None]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Nul\x00"}, "name"),
        ({"query": {"page": "2"}}, "query"),
        ({"query": {"q": ["a", "b"]}}, "query"),
        ({"query": {"q": 3}}, "query"),
        ({"query": {"q": "x" * 501}}, "query"),
        ({"query": {"custom": ["tier:\x00"]}}, "query"),
        ({"query": []}, "query"),
        ({"columns": ["nope"]}, "columns"),
        ({"columns": "name"}, "columns"),
        ({"sharing": "world"}, "sharing"),
    ],
)
def test_bad_input_is_a_field_error(org, data, field):
    with pytest.raises(ValidationFailed) as refused:
        services.create(PEOPLE, {"name": "View", **data}, actor=org.member_a)
    assert field in refused.value.errors
    assert not SavedView.objects.exists()


def test_who_sees_a_view_personal_department_and_everyone(org):
    make(org.member_a, name="Anna's")
    make(org.sales_head, name="Sales", sharing="department", department_id=org.dept.sales.pk)
    make(org.admin, name="Everyone's", sharing="everyone")
    assert names(org.member_a) == ["Anna's", "Everyone's", "Sales"]
    # Shared with Sales: its sub-departments' members too, not Support's nor Anna's own
    assert names(org.member_c) == ["Everyone's", "Sales"]
    assert names(org.support_member) == ["Everyone's"]
    assert names(org.member_a, COMPANIES) == []
    assert names(org.nobody) == []  # no right to view people: no views of them either
    personal = SavedView.objects.get(name="Anna's")
    with pytest.raises(NotFound):
        services.view_for(org.member_b, personal.pk)
    assert services.view_for(org.admin, personal.pk) == personal  # an administrator of views


def test_sharing_needs_a_grant_on_the_record_type(org):
    assert services.sharing_choices(org.member_a, PEOPLE.object_type) == ["personal"]
    assert services.sharing_choices(org.sales_head, PEOPLE.object_type) == [
        "personal",
        "department",
    ]
    assert services.sharing_choices(org.admin, PEOPLE.object_type) == [
        "personal",
        "department",
        "everyone",
    ]
    with pytest.raises(PermissionDenied):
        make(org.member_a, sharing="department", department_id=org.dept.team1.pk)
    with pytest.raises(PermissionDenied):
        make(org.sales_head, sharing="everyone")
    with pytest.raises(PermissionDenied):  # outside the head's subtree
        make(org.sales_head, sharing="department", department_id=org.dept.support.pk)
    with pytest.raises(ValidationFailed) as refused:
        make(org.sales_head, sharing="department")
    assert "department_id" in refused.value.errors
    team = make(org.sales_head, sharing="department", department_id=org.dept.team2.pk)
    assert (team.sharing, team.department) == ("department", org.dept.team2)
    mine = make(org.member_a, name="Mine")
    with pytest.raises(PermissionDenied):  # re-sharing is sharing too
        services.update(mine, {"sharing": "everyone"}, actor=org.member_a)
    made_personal = services.update(team, {"sharing": "personal"}, actor=org.sales_head)
    assert made_personal.department is None


def test_only_the_owner_or_an_administrator_changes_a_view(org):
    shared = make(org.admin, sharing="everyone")
    with pytest.raises(PermissionDenied):
        services.update(shared, {"name": "Mine now"}, actor=org.member_a)
    with pytest.raises(PermissionDenied):
        services.delete(shared, actor=org.member_a)
    anna = make(org.member_a, name="Anna's")
    # An administrator renames another's view; its sharing stays as its owner set it.
    assert services.update(anna, {"name": "Tidied"}, actor=org.admin).sharing == "personal"
    services.delete(anna, actor=org.admin)
    assert AuditEntry.objects.get(action="savedviews.savedview.deleted").actor_id == org.admin.pk


def test_a_list_state_keeps_the_parameters_the_list_reads(org):
    params = QueryDict(
        "q=x&page=3&mine=false&mine=true&custom=a:1&custom=b:2&sort=company&cols=x&z=1"
    )
    assert services.state_of(PEOPLE, params) == {
        "q": ["x"],
        "mine": ["true"],
        "custom": ["a:1", "b:2"],
        "sort": ["company"],
    }
    assert services.state_of(PEOPLE, QueryDict(f"sort={PEOPLE.default_sort}&q=")) == {}


# -- the list page -----------------------------------------------------------------------------


def test_the_list_page_saves_a_view_and_opens_it_in_its_state(client, org, tiers):
    client.force_login(org.member_a)
    url = reverse("contacts:person_list")
    empty = client.get(url).content.decode()
    assert 'data-testid="no-views"' in empty
    assert '<select name="sharing">' not in empty  # a member keeps views to themselves
    answer = client.post(
        reverse("savedviews:save"),
        {
            "object_type": "contacts.person",
            "name": "Gold, newest first",
            "query": "custom=tier:gold&sort=-name&page=2&mine=false",
            "columns": ["name", "cf.tier"],
        },
    )
    view = SavedView.objects.get()
    assert view.query == {"custom": ["tier:gold"], "sort": ["-name"]}
    assert view.columns == ["name", "cf.tier"] and view.sharing == "personal"
    assert answer.status_code == 302 and answer.url.startswith(url + "?custom=tier%3Agold")
    opened = client.get(answer.url).content.decode()
    assert re.findall(r">(Anna|Boris|Clara)<", opened) == ["Clara", "Anna"]
    assert '<option value="tier:gold" selected>Gold</option>' in opened
    assert 'aria-sort="descending"' in opened
    assert 'aria-current="page">✓ Gold, newest first' in opened
    assert "Gold, newest first" in client.get(url).content.decode()  # listed, not current
    again = client.post(
        reverse("savedviews:save"),
        {"object_type": "contacts.person", "name": "gold, NEWEST first", "query": ""},
        follow=True,
    )
    assert "You have a view of this name" in again.content.decode()
    assert SavedView.objects.count() == 1


def test_the_list_page_renames_shares_and_deletes_a_view(client, org):
    view = make(org.sales_head, query={"q": "x"})
    client.force_login(org.sales_head)
    page = client.get(reverse("contacts:person_list")).content.decode()
    assert 'value="department"' in page and 'value="everyone"' not in page
    change = reverse("savedviews:change", args=[view.pk])
    client.post(change, {"name": "Renamed", "sharing": "department",
                         "department_id": org.dept.team1.pk, "action": "save"})  # fmt: skip
    view.refresh_from_db()
    assert (view.name, view.sharing, view.department_id) == (
        "Renamed",
        "department",
        org.dept.team1.pk,
    )
    client.force_login(org.member_a)  # in Sales Team 1: sees it, may not change it
    assert "Renamed" in client.get(reverse("contacts:person_list")).content.decode()
    assert client.post(change, {"name": "Mine", "action": "save"}).status_code == 403
    assert client.post(change, {"action": "delete"}).status_code == 403
    client.force_login(org.sales_head)
    assert client.post(change, {"action": "delete"}).status_code == 302
    assert not SavedView.objects.exists()
    client.force_login(org.member_c)
    assert client.post(change, {"action": "delete"}).status_code == 404


def test_a_custom_object_list_has_views_too(client, org, define_type):
    rt = define_type("site", "site", "sites")
    client.force_login(org.admin)
    answer = client.post(
        reverse("savedviews:save"),
        {"object_type": rt.object_type, "name": "Everything", "query": "q=site",
         "sharing": "everyone"},
    )  # fmt: skip
    assert answer.status_code == 302 and answer.url == rt.url("list") + "?q=site"
    client.force_login(org.support_member)
    assert "Everything" in client.get(rt.url("list")).content.decode()
    plain = services.update(SavedView.objects.get(), {"query": {}}, actor=org.admin)
    assert services.open_query(plain) == ""  # the plain list, no dangling "?"


# -- the API -----------------------------------------------------------------------------------


def test_api_create_list_get_patch_delete(org, client):
    client.force_login(org.member_a)
    body = {"name": "Gold", "type": "people", "query": {"custom": "tier:gold", "sort": "-name"}}
    answer = client.post("/api/v1/views", body, content_type="application/json")
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert created["query"] == {"custom": ["tier:gold"], "sort": ["-name"]}
    assert created["url"] == "/people/?custom=tier%3Agold&sort=-name"
    assert (created["sharing"], created["may_change"], created["owner"]["id"]) == (
        "personal", True, org.member_a.pk
    )  # fmt: skip
    again = client.post("/api/v1/views", body, content_type="application/json")
    assert again.status_code == 422 and "name" in again.json()["errors"]
    wide = {**body, "name": "For all", "sharing": "everyone"}
    assert client.post("/api/v1/views", wide, content_type="application/json").status_code == 403
    unknown = {**body, "type": "nothing"}
    assert client.post("/api/v1/views", unknown, content_type="application/json").status_code == 422
    url = f"/api/v1/views/{created['id']}"
    assert client.get(url).json()["name"] == "Gold"
    patched = client.patch(url, {"name": "Gold only"}, content_type="application/json")
    assert patched.json()["name"] == "Gold only" and patched.json()["query"] == created["query"]
    assert [v["name"] for v in client.get("/api/v1/views?type=people").json()] == ["Gold only"]
    assert client.get("/api/v1/views?type=companies").json() == []
    assert client.get("/api/v1/views").status_code == 422  # the type is required
    # Everyone's views: an administrator's list; anyone else still sees their own
    assert len(client.get("/api/v1/views?type=people&every_owner=true").json()) == 1
    make(org.member_b, name="Boris's")
    client.force_login(org.admin)
    assert client.get("/api/v1/views?type=people").json() == []
    listed = client.get("/api/v1/views?type=people&every_owner=true").json()
    assert [(v["name"], v["may_change"]) for v in listed] == [
        ("Boris's", True),
        ("Gold only", True),
    ]
    client.force_login(org.member_a)
    client.force_login(org.member_b)  # personal: does not exist for others
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
    client.force_login(org.member_a)
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_the_views_menu_costs_the_same_queries_for_one_view_as_for_five(client, org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("contacts:person_list")).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(org.member_a)
    make(org.member_a, name="Own")
    one = count_queries()
    make(org.member_a, name="Second")
    make(org.sales_head, name="Sales", sharing="department", department_id=org.dept.sales.pk)
    make(org.admin, name="Everyone's", sharing="everyone")
    make(org.admin, name="Theirs", sharing="everyone")
    assert names(org.member_a) == ["Everyone's", "Own", "Sales", "Second", "Theirs"]
    assert count_queries() == one
