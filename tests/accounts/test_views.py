import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kontor.accounts import services
from kontor.accounts.models import ApiToken, Department, Role, User, hash_token
from kontor.core.access import SYSTEM
from kontor.core.models import AuditEntry

BASE_TEMPLATE = Path(__file__).parents[2] / "kontor/web/templates/web/base.html"

# The settings pages extend the UI helper's web/base.html (issue 2); until it exists
# they cannot render. This guard lifts itself the moment the file appears.
pytestmark = pytest.mark.skipif(
    not BASE_TEMPLATE.exists(), reason="kontor/web/templates/web/base.html not written yet"
)


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def text(response) -> str:
    return response.content.decode()


def test_anonymous_is_sent_to_login(client, org):
    for url in ("/settings/users/", "/settings/roles/", "/settings/tokens/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_member_sees_only_permitted_pages_and_users(as_user, org):
    client = as_user(org.member_a)
    page = client.get("/settings/users/")
    assert page.status_code == 200
    body = text(page)
    assert "boris@example.com" in body and "sam@example.com" not in body
    assert "/settings/roles/" not in body
    assert 'href="/settings/users/new/"' not in body
    assert client.get("/settings/roles/").status_code == 404
    assert client.get("/settings/roles/new/").status_code == 404
    assert client.get(f"/settings/users/{org.support_member.pk}/").status_code == 404
    assert client.get(f"/settings/departments/{org.dept.team1.pk}/").status_code == 404
    assert client.get("/settings/tokens/").status_code == 200


def test_user_list_filters_and_pages(as_user, org, make_user):
    for i in range(52):
        make_user(f"bulk{i:02}@example.com", department=org.dept.support)
    client = as_user(org.admin)
    first = text(client.get(f"/settings/users/?department={org.dept.support.pk}"))
    assert "bulk00@example.com" in first and "bulk51@example.com" not in first
    assert "sam@example.com" not in first or "bulk49" not in first
    assert "page=2" in first
    second = text(client.get(f"/settings/users/?department={org.dept.support.pk}&page=2"))
    assert "bulk51@example.com" in second and "bulk00@example.com" not in second
    found = text(client.get("/settings/users/?q=clara"))
    assert "clara@example.com" in found and "anna@example.com" not in found


def test_user_list_costs_the_same_queries_for_30_users_as_for_3(as_user, org, make_user):
    client = as_user(org.admin)
    url = f"/settings/users/?department={org.dept.support.pk}"
    client.get(url)  # warm the session and the user's cached grants
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(30):
        make_user(f"many{i:02}@example.com", department=org.dept.support, roles=["member"])
    with CaptureQueriesContext(connection) as many:
        assert "many29@example.com" in text(client.get(url))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_user_list_search_answers_htmx_with_the_results_fragment(as_user, org):
    response = as_user(org.admin).get(
        "/settings/users/?q=anna", headers={"HX-Request": "true", "HX-Target": "user-results"}
    )
    body = text(response)
    assert "anna@example.com" in body and "boris@example.com" not in body
    assert "<html" not in body and "<form" not in body


def test_create_user_with_errors_keeps_the_input(as_user, org):
    client = as_user(org.admin)
    response = client.post(
        "/settings/users/new/",
        {"email": "anna@example.com", "first_name": "Zed", "department": org.dept.support.pk},
    )
    assert response.status_code == 422
    body = text(response)
    assert 'value="Zed"' in body and "already exists" in body
    assert 'aria-invalid="true"' in body
    assert User.objects.filter(email="anna@example.com").count() == 1


def test_admin_creates_a_user_with_roles(as_user, org):
    member_role = Role.objects.get(name="member")
    response = as_user(org.admin).post(
        "/settings/users/new/",
        {
            "email": "zed@example.com",
            "first_name": "Zed",
            "password": "Zed-pass-12345",
            "department": org.dept.support.pk,
            "roles": [member_role.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    zed = User.objects.get(email="zed@example.com")
    assert zed.department_id == org.dept.support.pk
    assert list(zed.roles.all()) == [member_role]
    assert AuditEntry.objects.for_object(zed).get().channel == "ui"


def test_admin_edits_roles_with_checkboxes(as_user, org):
    client = as_user(org.admin)
    page = text(client.get(f"/settings/users/{org.member_b.pk}/"))
    assert 'type="checkbox" name="roles"' in page
    head = Role.objects.get(name="head")
    response = client.post(
        f"/settings/users/{org.member_b.pk}/",
        {
            "email": "boris@example.com",
            "first_name": "Boris",
            "department": org.dept.team1.pk,
            "roles": [head.pk],
            "is_active": "on",
            "version": 1,
        },
    )
    assert response.status_code == 302
    boris = fresh(org.member_b)
    assert boris.first_name == "Boris" and list(boris.roles.all()) == [head]


def test_member_editing_themselves_cannot_touch_roles_flags_or_department(as_user, org):
    client = as_user(org.member_a)
    page = text(client.get(f"/settings/users/{org.member_a.pk}/"))
    assert 'name="roles"' not in page and 'name="is_superuser"' not in page
    before = services.records.snapshot(fresh(org.member_a))
    response = client.post(
        f"/settings/users/{org.member_a.pk}/",
        {
            "email": "anna@example.com",
            "first_name": "Anna",
            "department": org.dept.root.pk,
            "roles": [Role.objects.get(name="admin").pk],
            "is_superuser": "on",
            "version": 1,
        },
    )
    assert response.status_code == 422
    assert 'value="Anna"' in text(response)
    assert services.records.snapshot(fresh(org.member_a)) == before


def test_stale_edit_is_refused_with_a_message(as_user, org):
    services.update_user(org.member_b, {"first_name": "First"}, actor=org.admin)
    response = as_user(org.sales_head).post(
        f"/settings/users/{org.member_b.pk}/",
        {
            "email": "boris@example.com",
            "first_name": "Second",
            "department": org.dept.team1.pk,
            "version": 1,
            "is_active": "on",
        },
    )
    assert response.status_code == 422
    assert "Someone else changed" in text(response)
    assert fresh(org.member_b).first_name == "First"


def test_deactivate_from_the_ui(as_user, org):
    response = as_user(org.sales_head).post(f"/settings/users/{org.member_c.pk}/deactivate/")
    assert response.status_code == 302
    assert not fresh(org.member_c).is_active


def test_departments_tree_add_rename_move_delete(as_user, org):
    client = as_user(org.admin)
    page = text(client.get("/settings/departments/"))
    names = re.findall(r'<span class="tree-name">([^<]+)</span>', page)
    assert names == ["Company", "Sales", "Sales Team 1", "Sales Team 2", "Support"]
    assert "3 members" in page  # Sales Team 1: anna, boris, nobody
    assert client.post("/settings/departments/", {"name": "", "parent": ""}).status_code == 422
    client.post("/settings/departments/", {"name": "Logistics", "parent": org.dept.root.pk})
    logistics = Department.objects.get(name="Logistics")
    response = client.post(
        f"/settings/departments/{logistics.pk}/",
        {"name": "Transport", "parent": org.dept.support.pk, "version": 1},
    )
    assert response.status_code == 302
    logistics = fresh(logistics)
    assert logistics.name == "Transport" and logistics.parent_id == org.dept.support.pk
    refused = client.post(
        f"/settings/departments/{org.dept.sales.pk}/",
        {"name": "Sales", "parent": org.dept.team1.pk, "version": 1},
    )
    assert refused.status_code == 422
    assert "own sub-department" in text(refused)
    assert fresh(org.dept.sales).parent_id == org.dept.root.pk
    client.post(f"/settings/departments/{org.dept.sales.pk}/delete/")
    assert Department.objects.filter(pk=org.dept.sales.pk).exists()
    client.post(f"/settings/departments/{logistics.pk}/delete/")
    assert not Department.objects.filter(pk=logistics.pk).exists()


def test_role_editor_shows_the_matrix_and_saves_grants(as_user, org):
    client = as_user(org.admin)
    page = text(client.get("/settings/roles/new/"))
    for object_type in ("*", "contacts.person", "contacts.company", "accounts.role"):
        assert f'name="grant:{object_type}:view"' in page
    response = client.post(
        "/settings/roles/new/",
        {
            "name": "Auditor",
            "description": "Reads everything",
            "grant:*:view": "4",
            "grant:contacts.person:export": "2",
        },
    )
    assert response.status_code == 302
    auditor = Role.objects.get(name="Auditor")
    assert sorted(auditor.grants.values_list("object_type", "action", "scope")) == [
        ("*", "view", 4),
        ("contacts.person", "export", 2),
    ]
    edit = text(client.get(f"/settings/roles/{auditor.pk}/"))
    assert re.search(r'name="grant:\*:view"[^>]*>.*?<option value="4" selected', edit, re.S)
    client.post(f"/settings/roles/{auditor.pk}/delete/")
    assert not Role.objects.filter(pk=auditor.pk).exists()


def test_role_editor_grants_the_admin_areas_by_their_names(as_user, org, make_user):
    from kontor.core import customfields, events

    client = as_user(org.admin)
    page = text(client.get("/settings/roles/new/"))
    for object_type, label in (
        ("core.event", "Event deliveries"),
        ("core.customfield", "Custom fields"),
    ):
        assert f'name="grant:{object_type}:edit"' in page
        assert f"{label} <code>{object_type}</code>" in page
    assert "People <code>contacts.person</code>" in page
    response = client.post(
        "/settings/roles/new/",
        {"name": "Field keeper", "grant:core.customfield:edit": "4", "grant:core.event:view": "4"},
    )
    assert response.status_code == 302
    keeper = make_user("keeper@example.com", roles=["Field keeper"])
    assert customfields.may_manage_fields(keeper) and events.may_view_deliveries(keeper)
    assert not customfields.may_manage_fields(org.member_a)


def test_builtin_role_cannot_be_deleted_from_the_ui(as_user, org):
    admin_role = Role.objects.get(name="admin")
    as_user(org.admin).post(f"/settings/roles/{admin_role.pk}/delete/")
    assert Role.objects.filter(pk=admin_role.pk).exists()


def test_head_gets_404_on_role_pages(as_user, org):
    client = as_user(org.sales_head)
    admin_role = Role.objects.get(name="admin")
    assert client.get("/settings/roles/").status_code == 404
    assert client.get(f"/settings/roles/{admin_role.pk}/").status_code == 404
    assert client.post(f"/settings/roles/{admin_role.pk}/delete/").status_code == 404
    assert Role.objects.filter(pk=admin_role.pk).exists()


def test_token_is_shown_once_and_can_be_revoked(as_user, org):
    client = as_user(org.member_a)
    created = client.post("/settings/tokens/", {"name": "script"})
    assert created.status_code == 200
    raw = re.search(r'value="(kt_[^"]+)"', text(created)).group(1)
    assert created["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=org.member_a)
    assert token.token_hash == hash_token(raw)
    again = text(client.get("/settings/tokens/"))
    assert raw not in again and token.key_prefix in again
    client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert fresh(token).revoked_at is not None


def test_nobody_revokes_another_users_token_from_the_ui(as_user, org):
    services.issue_token(org.member_b, actor=SYSTEM)
    token = ApiToken.objects.get(user=org.member_b)
    assert as_user(org.member_a).post(f"/settings/tokens/{token.pk}/revoke/").status_code == 404
    assert fresh(token).revoked_at is None
