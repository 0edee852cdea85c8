import pytest

from kontor.accounts import queries, services
from kontor.accounts.models import Department, Role, RoleGrant, User
from kontor.contacts import services as contacts
from kontor.contacts.models import Person
from kontor.core.access import SYSTEM, Action, Scope, scope_for
from kontor.core.errors import Conflict, KontorError, NotFound, PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def role(name):
    return Role.objects.get(name=name)


def audit_actions(obj):
    return list(AuditEntry.objects.for_object(obj).values_list("action", flat=True))


# -- escalation guards ---------------------------------------------------------------------


def test_head_cannot_give_themselves_admin(org):
    with pytest.raises(PermissionDenied):
        services.update_user(org.sales_head, {"roles": [role("admin")]}, actor=org.sales_head)
    assert list(fresh(org.sales_head).roles.values_list("name", flat=True)) == ["head"]


def test_head_cannot_give_a_member_of_their_team_admin(org):
    with pytest.raises(PermissionDenied):
        services.update_user(org.member_a, {"roles": [role("admin")]}, actor=org.sales_head)
    assert list(fresh(org.member_a).roles.values_list("name", flat=True)) == ["member"]


def test_head_cannot_create_a_user_holding_a_role(org):
    with pytest.raises(PermissionDenied):
        services.create_user(
            email="new@example.com",
            password=None,
            department=org.dept.team1,
            roles=[role("admin")],
            actor=org.sales_head,
        )
    assert not User.objects.filter(email="new@example.com").exists()


def test_head_creates_a_user_without_roles_inside_their_subtree_only(org):
    created = services.create_user(
        email="new@example.com", password=None, department=org.dept.team2, actor=org.sales_head
    )
    assert fresh(created).department_id == org.dept.team2.pk
    with pytest.raises(PermissionDenied):
        services.create_user(
            email="other@example.com",
            password=None,
            department=org.dept.support,
            actor=org.sales_head,
        )
    assert not User.objects.filter(email="other@example.com").exists()


def test_member_cannot_change_own_flags_roles_or_department(org):
    before = services.records.snapshot(fresh(org.member_a))
    for change in (
        {"is_superuser": True},
        {"roles": [role("admin")]},
        {"department": org.dept.root},
        {"is_active": False},
    ):
        with pytest.raises(PermissionDenied):
            services.update_user(fresh(org.member_a), change, actor=org.member_a)
    assert services.records.snapshot(fresh(org.member_a)) == before
    assert fresh(org.member_a).version == 1


def test_member_may_change_their_own_name(org):
    services.update_user(org.member_a, {"first_name": " Anna "}, actor=org.member_a)
    assert fresh(org.member_a).first_name == "Anna"


def test_only_a_superuser_sets_the_superuser_flag(org):
    with pytest.raises(PermissionDenied):
        services.update_user(org.member_a, {"is_superuser": True}, actor=org.admin)
    assert not fresh(org.member_a).is_superuser
    services.update_user(org.member_a, {"is_superuser": True}, actor=org.superuser)
    assert fresh(org.member_a).is_superuser


def test_admin_assigns_roles_to_others_but_not_to_themselves(org):
    services.update_user(org.member_a, {"roles": [role("head")]}, actor=org.admin)
    assert list(fresh(org.member_a).roles.values_list("name", flat=True)) == ["head"]
    with pytest.raises(PermissionDenied):
        services.update_user(org.admin, {"roles": []}, actor=org.admin)
    assert list(fresh(org.admin).roles.values_list("name", flat=True)) == ["admin"]


def test_role_manager_cannot_grant_wider_than_they_hold(org, make_user):
    manager_role = services.create_role(
        name="role manager",
        grants=[
            ("accounts.role", Action.EDIT, Scope.ALL),
            ("accounts.role", Action.VIEW, Scope.ALL),
            ("accounts.role", Action.CREATE, Scope.ALL),
            ("*", Action.VIEW, Scope.DEPARTMENT),
        ],
        actor=SYSTEM,
    )
    manager = make_user("rm@example.com", department=org.dept.team1)
    services.update_user(manager, {"roles": [manager_role]}, actor=org.superuser)
    manager = fresh(manager)
    with pytest.raises(PermissionDenied):
        services.create_role(name="wide", grants=[("*", Action.VIEW, Scope.ALL)], actor=manager)
    assert not Role.objects.filter(name="wide").exists()
    narrow = services.create_role(
        name="narrow", grants=[("contacts.person", Action.VIEW, Scope.OWN)], actor=manager
    )
    assert list(narrow.grants.values_list("object_type", "action", "scope")) == [
        ("contacts.person", "view", Scope.OWN)
    ]
    # Assigning a role that carries more than the manager holds is escalation too.
    with pytest.raises(PermissionDenied):
        services.update_user(org.member_b, {"roles": [role("admin")]}, actor=manager)
    with pytest.raises(PermissionDenied):
        services.update_role(role("member"), grants=[("*", "view", Scope.ALL)], actor=manager)
    assert role("member").grants.get(action="view").scope == Scope.DEPARTMENT


def test_head_cannot_reset_the_password_of_a_stronger_user_in_their_subtree(org, make_user):
    strong = make_user("strong@example.com", department=org.dept.team1, roles=["admin"])
    with pytest.raises(PermissionDenied):
        services.set_password(strong, password="A-new-pass-123", actor=org.sales_head)
    with pytest.raises(PermissionDenied):
        services.update_user(strong, {"email": "mine@example.com"}, actor=org.sales_head)
    assert fresh(strong).email == "strong@example.com"
    assert fresh(strong).check_password("Kontor-test-pass-1")


def test_head_cannot_move_a_user_or_themselves_out_of_their_subtree(org):
    for target in (org.member_a, org.sales_head):
        with pytest.raises(PermissionDenied):
            services.update_user(target, {"department": org.dept.root}, actor=org.sales_head)
        assert fresh(target).department_id == target.department_id
    services.update_user(org.member_a, {"department": org.dept.team2}, actor=org.sales_head)
    assert fresh(org.member_a).department_id == org.dept.team2.pk


def test_users_outside_scope_are_not_found(org):
    with pytest.raises(NotFound):
        services.update_user(org.support_member, {"first_name": "X"}, actor=org.sales_head)
    with pytest.raises(NotFound):
        User.objects.get_visible(org.member_a, org.member_c.pk)
    assert fresh(org.support_member).first_name == ""


def test_member_sees_users_of_their_department_only(org):
    seen = set(queries.users(org.member_a).values_list("email", flat=True))
    assert seen == {"anna@example.com", "boris@example.com", "nobody@example.com"}
    head_sees = set(queries.users(org.sales_head).values_list("email", flat=True))
    assert head_sees == {
        "head@example.com",
        "anna@example.com",
        "boris@example.com",
        "clara@example.com",
        "nobody@example.com",
    }


# -- users -----------------------------------------------------------------------------


def test_update_user_with_stale_version_is_refused(org):
    services.update_user(org.member_b, {"first_name": "One"}, actor=org.admin, expected_version=1)
    with pytest.raises(Conflict):
        services.update_user(
            fresh(org.member_b), {"first_name": "Two"}, actor=org.admin, expected_version=1
        )
    assert (fresh(org.member_b).first_name, fresh(org.member_b).version) == ("One", 2)


def test_deactivated_user_cannot_log_in_and_is_audited(org, client):
    services.deactivate_user(org.member_b, actor=org.sales_head)
    assert not fresh(org.member_b).is_active
    entry = AuditEntry.objects.for_object(org.member_b).first()
    assert entry.action == "accounts.user.updated"
    assert entry.changes == {"is_active": [True, False]}


def test_role_change_is_audited_with_role_names(org):
    services.update_user(org.member_b, {"roles": [role("head"), role("member")]}, actor=org.admin)
    entry = AuditEntry.objects.for_object(org.member_b).first()
    assert entry.changes == {"roles": [["member"], ["head", "member"]]}
    assert entry.actor_id == org.admin.pk


def test_duplicate_email_is_a_field_error(org):
    with pytest.raises(ValidationFailed) as exc:
        services.update_user(org.member_b, {"email": "ANNA@example.com"}, actor=org.admin)
    assert "email" in exc.value.errors


def test_set_password_of_own_account_needs_the_current_one(org):
    with pytest.raises(ValidationFailed) as exc:
        services.set_password(
            org.member_a, password="Brand-new-pass-1", current_password="x", actor=org.member_a
        )
    assert "current_password" in exc.value.errors
    services.set_password(
        org.member_a,
        password="Brand-new-pass-1",
        current_password="Kontor-test-pass-1",
        actor=org.member_a,
    )
    assert fresh(org.member_a).check_password("Brand-new-pass-1")
    assert audit_actions(org.member_a)[0] == "accounts.user.password_changed"
    assert "Brand-new" not in str(AuditEntry.objects.for_object(org.member_a).first().changes)


def test_set_password_refuses_a_weak_password(org):
    with pytest.raises(ValidationFailed) as exc:
        services.set_password(org.member_a, password="123", actor=org.admin)
    assert "password" in exc.value.errors
    assert fresh(org.member_a).check_password("Kontor-test-pass-1")


# -- departments ------------------------------------------------------------------------


def test_moving_a_department_rewrites_subtree_paths_and_visibility_follows(org):
    person = contacts.create_person({"first_name": "P", "last_name": "Q"}, actor=org.member_c)
    assert Person.objects.visible_to(org.sales_head).filter(pk=person.pk).exists()
    sub = services.create_department(name="Team 2 North", parent=org.dept.team2, actor=SYSTEM)

    services.move_department(org.dept.team2, parent=org.dept.support, actor=org.admin)

    team2, sub = fresh(org.dept.team2), fresh(sub)
    support = org.dept.support
    assert team2.path == f"{support.path}{team2.pk}/"
    assert sub.path == f"{support.path}{team2.pk}/{sub.pk}/"
    assert team2.depth == 2 and sub.depth == 3
    # Fresh user objects: access caches live for one request.
    assert not Person.objects.visible_to(fresh(org.sales_head)).filter(pk=person.pk).exists()
    support_head = services.create_user(
        email="sh@example.com",
        password=None,
        department=support,
        roles=[role("head")],
        actor=SYSTEM,
    )
    assert Person.objects.visible_to(fresh(support_head)).filter(pk=person.pk).exists()
    assert set(fresh(org.sales_head).department_subtree_ids()) == {
        org.dept.sales.pk,
        org.dept.team1.pk,
    }


def test_department_cannot_move_into_its_own_subtree(org):
    with pytest.raises(ValidationFailed) as exc:
        services.move_department(org.dept.sales, parent=org.dept.team1, actor=org.admin)
    assert "parent_id" in exc.value.errors
    assert fresh(org.dept.sales).parent_id == org.dept.root.pk


def test_head_cannot_move_a_department_out_of_their_reach(org):
    with pytest.raises(PermissionDenied):
        services.move_department(org.dept.team1, parent=org.dept.support, actor=org.sales_head)
    with pytest.raises(PermissionDenied):
        services.move_department(org.dept.sales, parent=None, actor=org.sales_head)
    assert fresh(org.dept.team1).parent_id == org.dept.sales.pk
    with pytest.raises(NotFound):
        services.rename_department(org.dept.support, name="Mine", actor=org.sales_head)
    services.move_department(org.dept.team2, parent=org.dept.team1, actor=org.sales_head)
    assert fresh(org.dept.team2).parent_id == org.dept.team1.pk


def test_department_tree_is_depth_first_and_relative_to_the_viewer(org):
    tree = queries.department_tree(org.admin)
    assert [(d.name, d.tree_depth) for d in tree] == [
        ("Company", 0),
        ("Sales", 1),
        ("Sales Team 1", 2),
        ("Sales Team 2", 2),
        ("Support", 1),
    ]
    head_tree = queries.department_tree(org.sales_head)
    assert [(d.name, d.tree_depth) for d in head_tree] == [
        ("Sales", 0),
        ("Sales Team 1", 1),
        ("Sales Team 2", 1),
    ]


def test_only_an_empty_department_is_deleted(org):
    with pytest.raises(ValidationFailed):
        services.delete_department(org.dept.team1, actor=org.admin)
    with pytest.raises(ValidationFailed):
        services.delete_department(org.dept.sales, actor=org.admin)
    empty = services.create_department(name="Empty", parent=org.dept.root, actor=SYSTEM)
    empty_id = empty.pk
    services.delete_department(empty, actor=org.admin)
    assert not Department.objects.filter(pk=empty_id).exists()
    assert AuditEntry.objects.filter(
        object_type="accounts.department", object_id=empty_id, action="accounts.department.deleted"
    ).exists()


def test_department_holding_records_is_not_deleted(org, make_user):
    empty = services.create_department(name="Records only", parent=org.dept.root, actor=SYSTEM)
    person = contacts.create_person({"first_name": "P", "last_name": "Q"}, actor=org.admin)
    contacts.update_person(person, {"department_id": empty.pk}, actor=org.admin)
    with pytest.raises(ValidationFailed):
        services.delete_department(empty, actor=org.admin)
    assert Department.objects.filter(pk=empty.pk).exists()
    assert "accounts.department.deleted" not in audit_actions(empty)


# -- roles --------------------------------------------------------------------------------


def test_builtin_role_may_be_edited_but_not_deleted(org):
    member = role("member")
    services.update_role(
        member,
        description="Edited",
        grants=[("*", "view", Scope.SUBTREE), ("contacts.person", "delete", Scope.OWN)],
        actor=org.admin,
    )
    member = role("member")
    assert member.description == "Edited"
    assert scope_for(fresh(org.member_a), "contacts.person", Action.DELETE) == Scope.OWN
    assert scope_for(fresh(org.member_a), "contacts.person", Action.EDIT) == Scope.NONE
    with pytest.raises(KontorError):
        services.delete_role(member, actor=org.admin)
    assert Role.objects.filter(pk=member.pk).exists()
    entry = AuditEntry.objects.for_object(member).first()
    assert entry.action == "accounts.role.updated"
    assert entry.changes["grants"][1] == [
        "* view subtree",
        "contacts.person delete own",
    ]


def test_custom_role_lifecycle_is_audited(org):
    custom = services.create_role(
        name="auditor", grants=[("*", "view", Scope.ALL), ("*", "export", 4)], actor=org.admin
    )
    services.update_role(custom, name="Auditor", actor=org.admin, expected_version=1)
    with pytest.raises(Conflict):
        services.update_role(fresh(custom), name="x", actor=org.admin, expected_version=1)
    custom_id = custom.pk
    services.delete_role(fresh(custom), actor=org.admin)
    assert not RoleGrant.objects.filter(role_id=custom_id).exists()
    assert list(
        AuditEntry.objects.filter(object_type="accounts.role", object_id=custom_id).values_list(
            "action", flat=True
        )
    ) == [
        "accounts.role.deleted",
        "accounts.role.updated",
        "accounts.role.created",
    ]


def test_bad_grants_are_field_errors(org):
    with pytest.raises(ValidationFailed) as exc:
        services.create_role(
            name="bad",
            grants=[("no type", "view", 1), ("*", "fly", 1), ("*", "view", 9)],
            actor=org.admin,
        )
    assert set(exc.value.errors) == {"grants.0.object_type", "grants.1.action", "grants.2.scope"}
    assert not Role.objects.filter(name="bad").exists()


def test_head_cannot_touch_roles(org):
    with pytest.raises(PermissionDenied):
        services.create_role(name="x", actor=org.sales_head)
    with pytest.raises(PermissionDenied):
        services.update_role(role("head"), grants=[("*", "view", 4)], actor=org.sales_head)
    assert role("head").grants.get(action="view").scope == Scope.SUBTREE


def test_every_accounts_write_leaves_an_audit_entry(org):
    def count():
        return AuditEntry.objects.count()

    writes = [
        lambda: services.create_department(name="D", parent=org.dept.root, actor=org.admin),
        lambda: services.rename_department(org.dept.support, name="Help", actor=org.admin),
        lambda: services.move_department(org.dept.team2, parent=org.dept.root, actor=org.admin),
        lambda: services.create_user(email="u@example.com", password=None, actor=org.admin),
        lambda: services.update_user(org.member_b, {"last_name": "B"}, actor=org.admin),
        lambda: services.deactivate_user(org.member_c, actor=org.admin),
        lambda: services.set_password(org.member_b, password="Another-pass-9", actor=org.admin),
        lambda: services.create_role(name="r", actor=org.admin),
        lambda: services.update_role(role("r"), description="d", actor=org.admin),
        lambda: services.delete_role(role("r"), actor=org.admin),
        lambda: services.delete_department(Department.objects.get(name="D"), actor=org.admin),
        lambda: services.issue_token(org.admin, name="t", actor=org.admin),
        lambda: services.revoke_token(org.admin.api_tokens.get(), actor=org.admin),
    ]
    for write in writes:
        before = count()
        write()
        assert count() == before + 1, write
