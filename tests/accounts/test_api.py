import json

import pytest

from kontor.accounts import services
from kontor.accounts.models import ApiToken, Department, Role, User
from kontor.core.access import SYSTEM
from kontor.core.models import AuditEntry


class Api:
    """The Django test client speaking JSON with one user's bearer token."""

    def __init__(self, client, user=None):
        self.client = client
        self.headers = {}
        if user is not None:
            token = services.issue_token(user, name="tests", actor=SYSTEM)
            self.headers["Authorization"] = f"Bearer {token}"

    def _send(self, method, path, body=None):
        kwargs = {"headers": self.headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path):
        return self._send("get", path)

    def post(self, path, body=None):
        return self._send("post", path, body if body is not None else {})

    def patch(self, path, body):
        return self._send("patch", path, body)

    def delete(self, path):
        return self._send("delete", path)


@pytest.fixture
def api(client):
    return lambda user=None: Api(client, user)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/users"),
        ("get", "/users/1"),
        ("post", "/users"),
        ("patch", "/users/1"),
        ("get", "/departments"),
        ("post", "/departments"),
        ("get", "/roles"),
        ("post", "/roles"),
        ("get", "/tokens"),
        ("post", "/tokens"),
        ("delete", "/tokens/1"),
    ],
)
def test_anonymous_gets_401(api, org, method, path):
    anonymous = api()
    if method in ("get", "delete"):
        response = getattr(anonymous, method)(path)
    else:
        response = getattr(anonymous, method)(path, {})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_user_list_is_scoped_paginated_and_filtered(api, org):
    head = api(org.sales_head)
    page = head.get("/users?limit=2&offset=1").json()
    assert (page["count"], page["limit"], page["offset"]) == (5, 2, 1)
    assert len(page["items"]) == 2
    everyone = {u["email"] for u in head.get("/users?limit=50").json()["items"]}
    assert "sam@example.com" not in everyone and "anna@example.com" in everyone
    team2 = head.get(f"/users?department_id={org.dept.team2.pk}").json()
    assert [u["email"] for u in team2["items"]] == ["clara@example.com"]
    found = head.get("/users?q=BORIS").json()
    assert [u["email"] for u in found["items"]] == ["boris@example.com"]
    services.deactivate_user(org.member_b, actor=org.admin)
    inactive = head.get("/users?active=false").json()
    assert [u["email"] for u in inactive["items"]] == ["boris@example.com"]


def test_user_payload_never_carries_password_or_hashes(api, org):
    body = api(org.admin).get(f"/users/{org.member_a.pk}").json()
    text = json.dumps(body)
    assert fresh(org.member_a).password not in text
    assert "password" not in body and "token_hash" not in text
    member = Role.objects.get(name="member")
    assert body["roles"] == [{"id": member.pk, "name": "member", "display_name": "Member"}]
    assert body["department_name"] == "Sales Team 1"


def test_user_outside_scope_is_404_for_read_and_write(api, org):
    head = api(org.sales_head)
    assert head.get(f"/users/{org.support_member.pk}").status_code == 404
    response = head.patch(f"/users/{org.support_member.pk}", {"version": 1, "first_name": "X"})
    assert response.status_code == 404
    assert head.post(f"/users/{org.support_member.pk}/deactivate").status_code == 404
    assert fresh(org.support_member).first_name == "" and fresh(org.support_member).is_active


def test_member_patch_of_privileged_fields_leaves_the_row_unchanged(api, org):
    member = api(org.member_a)
    admin_role = Role.objects.get(name="admin")
    before = services.records.snapshot(fresh(org.member_a))
    for change in (
        {"is_superuser": True},
        {"role_ids": [admin_role.pk]},
        {"department_id": org.dept.root.pk},
        {"department_id": None},
    ):
        response = member.patch(f"/users/{org.member_a.pk}", {"version": 1, **change})
        assert response.status_code in (403, 422), change
    assert services.records.snapshot(fresh(org.member_a)) == before
    assert fresh(org.member_a).version == 1
    assert (
        not AuditEntry.objects.for_object(org.member_a)
        .exclude(action="accounts.user.created")
        .exists()
    )


def test_head_cannot_give_anyone_admin_through_the_api(api, org):
    head = api(org.sales_head)
    admin_role = Role.objects.get(name="admin")
    for target in (org.sales_head, org.member_a):
        response = head.patch(f"/users/{target.pk}", {"version": 1, "role_ids": [admin_role.pk]})
        assert response.status_code == 403
        assert "admin" not in fresh(target).roles.values_list("name", flat=True)


def test_patch_user_changes_fields_and_stale_version_is_409(api, org):
    admin = api(org.admin)
    response = admin.patch(
        f"/users/{org.member_b.pk}",
        {
            "version": 1,
            "first_name": "Boris",
            "department_id": org.dept.team2.pk,
            "role_ids": [Role.objects.get(name="head").pk],
        },
    )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    boris = fresh(org.member_b)
    assert (boris.first_name, boris.department_id) == ("Boris", org.dept.team2.pk)
    assert list(boris.roles.values_list("name", flat=True)) == ["head"]
    stale = admin.patch(f"/users/{org.member_b.pk}", {"version": 1, "first_name": "Old"})
    assert stale.status_code == 409
    assert fresh(org.member_b).first_name == "Boris"


def test_create_user_validates_and_creates(api, org):
    admin = api(org.admin)
    bad = admin.post("/users", {"email": "not-an-email", "password": "123"})
    assert bad.status_code == 422
    assert "email" in bad.json()["errors"] or "password" in bad.json()["errors"]
    created = admin.post(
        "/users",
        {
            "email": "New.Person@Example.com",
            "password": "A-good-pass-42",
            "first_name": "New",
            "department_id": org.dept.support.pk,
            "role_ids": [Role.objects.get(name="member").pk],
        },
    )
    assert created.status_code == 201, created.json()
    user = User.objects.get(email="new.person@example.com")
    assert user.check_password("A-good-pass-42")
    assert user.department_id == org.dept.support.pk
    assert created.json()["id"] == user.pk
    audit = AuditEntry.objects.for_object(user).get()
    assert (audit.action, audit.channel) == ("accounts.user.created", "api")


def test_deactivate_user(api, org):
    response = api(org.sales_head).post(f"/users/{org.member_b.pk}/deactivate", {"version": 1})
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert not fresh(org.member_b).is_active


def test_department_tree_create_rename_move_delete(api, org):
    admin = api(org.admin)
    tree = admin.get("/departments").json()
    assert [(d["name"], d["depth"]) for d in tree["items"]] == [
        ("Company", 0),
        ("Sales", 1),
        ("Sales Team 1", 2),
        ("Sales Team 2", 2),
        ("Support", 1),
    ]
    assert tree["items"][1]["parent_id"] == org.dept.root.pk
    created = admin.post("/departments", {"name": "Logistics", "parent_id": org.dept.root.pk})
    assert created.status_code == 201
    new_id = created.json()["id"]
    moved = admin.patch(
        f"/departments/{new_id}",
        {"version": 1, "name": "Logistics & Transport", "parent_id": org.dept.support.pk},
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["depth"] == 2 and moved.json()["version"] == 3
    logistics = Department.objects.get(pk=new_id)
    assert logistics.name == "Logistics & Transport"
    assert logistics.path == f"{org.dept.support.path}{new_id}/"
    assert admin.delete(f"/departments/{org.dept.sales.pk}").status_code == 422
    assert admin.delete(f"/departments/{new_id}").status_code == 204
    assert not Department.objects.filter(pk=new_id).exists()


def test_member_sees_only_their_department_and_cannot_create_one(api, org):
    member = api(org.member_a)
    items = member.get("/departments").json()["items"]
    assert [(d["name"], d["depth"]) for d in items] == [("Sales Team 1", 2)]
    assert member.get(f"/departments/{org.dept.support.pk}").status_code == 404
    response = member.post("/departments", {"name": "Mine", "parent_id": org.dept.team1.pk})
    assert response.status_code == 403
    assert not Department.objects.filter(name="Mine").exists()


def test_roles_api(api, org):
    admin = api(org.admin)
    roles = admin.get("/roles").json()
    assert [r["name"] for r in roles["items"]] == ["admin", "head", "member"]
    member_role = next(r for r in roles["items"] if r["name"] == "member")
    assert {"object_type": "*", "action": "view", "scope": "department"} in member_role["grants"]
    created = admin.post(
        "/roles",
        {
            "name": "viewer",
            "grants": [{"object_type": "contacts.person", "action": "view", "scope": "all"}],
        },
    )
    assert created.status_code == 201, created.json()
    role_id = created.json()["id"]
    patched = admin.patch(
        f"/roles/{role_id}",
        {"version": 1, "grants": [{"object_type": "*", "action": "export", "scope": "own"}]},
    )
    assert patched.json()["grants"] == [{"object_type": "*", "action": "export", "scope": "own"}]
    bad = admin.patch(
        f"/roles/{role_id}",
        {"version": 2, "grants": [{"object_type": "*", "action": "fly", "scope": "own"}]},
    )
    assert bad.status_code == 422
    assert admin.delete(f"/roles/{Role.objects.get(name='admin').pk}").status_code == 400
    assert admin.delete(f"/roles/{role_id}").status_code == 204
    assert not Role.objects.filter(pk=role_id).exists()


def test_roles_are_invisible_to_a_head(api, org):
    head = api(org.sales_head)
    assert head.get("/roles").json()["count"] == 0
    admin_role = Role.objects.get(name="admin")
    assert head.get(f"/roles/{admin_role.pk}").status_code == 404
    response = head.patch(f"/roles/{admin_role.pk}", {"version": 1, "name": "mine"})
    assert response.status_code == 404
    assert head.post("/roles", {"name": "mine"}).status_code == 403
    assert Role.objects.get(pk=admin_role.pk).name == "admin"


def test_my_tokens_create_list_revoke(api, org):
    member = api(org.member_a)
    created = member.post("/tokens", {"name": "laptop"})
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("kt_") and created.json()["prefix"] == raw[:10]
    listed = member.get("/tokens").json()
    assert {t["name"] for t in listed} == {"tests", "laptop"}
    assert raw not in json.dumps(listed)
    laptop = ApiToken.objects.get(name="laptop")
    assert member.delete(f"/tokens/{laptop.pk}").status_code == 204
    assert fresh(laptop).revoked_at is not None
    revoked_client = Api(member.client)
    revoked_client.headers["Authorization"] = f"Bearer {raw}"
    assert revoked_client.get("/users").status_code == 401


def test_nobody_revokes_or_lists_another_users_token(api, org):
    services.issue_token(org.member_b, name="boris", actor=SYSTEM)
    boris_token = ApiToken.objects.get(name="boris")
    member = api(org.member_a)
    assert "boris" not in {t["name"] for t in member.get("/tokens").json()}
    assert member.delete(f"/tokens/{boris_token.pk}").status_code == 404
    assert fresh(boris_token).revoked_at is None
