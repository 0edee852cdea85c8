import pytest

from kontor.accounts import services as accounts
from kontor.contacts import services
from kontor.contacts.models import Person
from kontor.core.access import SYSTEM, Action, Scope, scope_for
from kontor.core.errors import Conflict, NotFound, PermissionDenied
from kontor.core.models import AuditEntry


def person_owned_by(user, **extra):
    return services.create_person({"first_name": "P", "last_name": user.email, **extra}, actor=user)


def test_builtin_roles_grant_the_documented_scopes(org):
    assert scope_for(org.admin, "contacts.person", Action.DELETE) == Scope.ALL
    assert scope_for(org.sales_head, "contacts.person", Action.EXPORT) == Scope.SUBTREE
    assert scope_for(org.member_a, "contacts.person", Action.VIEW) == Scope.DEPARTMENT
    assert scope_for(org.member_a, "contacts.person", Action.EDIT) == Scope.OWN
    assert scope_for(org.member_a, "contacts.person", Action.DELETE) == Scope.NONE
    assert scope_for(org.nobody, "contacts.person", Action.VIEW) == Scope.NONE


def test_visibility_follows_department_tree(org):
    a = person_owned_by(org.member_a)
    c = person_owned_by(org.member_c)
    s = person_owned_by(org.support_member)

    def seen(user):
        return set(Person.objects.visible_to(user).values_list("pk", flat=True))

    assert seen(org.member_b) == {a.pk}
    assert seen(org.member_c) == {c.pk}
    assert seen(org.sales_head) == {a.pk, c.pk}
    assert seen(org.admin) == seen(org.superuser) == {a.pk, c.pk, s.pk}
    assert seen(org.nobody) == set()


def test_outside_scope_is_not_found_and_inside_but_not_editable_is_denied(org):
    a = person_owned_by(org.member_a)
    with pytest.raises(NotFound):
        services.update_person(a, {"position": "x"}, actor=org.support_member)
    with pytest.raises(PermissionDenied):
        services.update_person(a, {"position": "x"}, actor=org.member_b)
    services.update_person(a, {"position": "Buyer"}, actor=org.sales_head)
    assert Person.objects.get(pk=a.pk).position == "Buyer"


def test_member_cannot_hand_a_record_to_another_department(org):
    a = person_owned_by(org.member_a)
    with pytest.raises(PermissionDenied):
        services.update_person(
            a,
            {"department_id": org.dept.support.pk, "owner_id": org.support_member.pk},
            actor=org.member_a,
        )
    assert Person.objects.get(pk=a.pk).department_id == org.dept.team1.pk


def test_stale_version_is_refused_and_nothing_is_written(org):
    a = person_owned_by(org.member_a)
    services.update_person(a, {"position": "One"}, actor=org.member_a, expected_version=1)
    stale = Person.objects.get(pk=a.pk)
    with pytest.raises(Conflict):
        services.update_person(stale, {"position": "Two"}, actor=org.member_a, expected_version=1)
    fresh = Person.objects.get(pk=a.pk)
    assert (fresh.position, fresh.version) == ("One", 2)
    assert AuditEntry.objects.filter(action="contacts.person.updated").count() == 1


def test_every_action_read_stays_inside_the_view_scope(org, make_user):
    """An export granted wider than viewing still reads only what the user may view."""
    role = accounts.create_role(
        name="wide exporter",
        grants=[
            ("contacts.person", Action.VIEW, Scope.DEPARTMENT),
            ("contacts.person", Action.EXPORT, Scope.ALL),
        ],
        actor=SYSTEM,
    )
    exporter = make_user("exporter@example.com", department=org.dept.team1)
    exporter.roles.add(role)
    exporter = type(exporter).objects.get(pk=exporter.pk)
    own_team = person_owned_by(org.member_a)
    other_team = person_owned_by(org.member_c)

    def read(action):
        return set(Person.objects.visible_to(exporter, action).values_list("pk", flat=True))

    assert read(Action.VIEW) == {own_team.pk}
    assert read(Action.EXPORT) == {own_team.pk}
    assert other_team.pk not in read(Action.EXPORT)


def test_a_large_scopes_sorted_page_walks_the_sort_index_and_a_small_ones_does_not(
    org, monkeypatch
):
    """SQLite: a page of a scope holding a large share of the table keeps the scope's
    columns out of index choice (``+column``), so the sort's index is walked; a small
    scope, a count and the other reads keep the indexes. The rows are the same."""
    from django.db import connection

    from kontor.core import access, types

    for i in range(60):
        person_owned_by(org.member_a, first_name=f"P{i:02d}")
    person_owned_by(org.support_member)
    monkeypatch.setattr(access, "WALK_MIN_ROWS", 10)
    monkeypatch.setattr(access, "_walk_decisions", {})
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_person")
    people = types.by_model(Person)
    walks = connection.vendor == "sqlite"  # PostgreSQL weighs LIMIT itself

    def page_sql(user, sort=""):
        return str(people.list_query(user, types.ListFilters(sort=sort))[:50].query)

    assert ('+"contacts_person"."owner_id"' in page_sql(org.member_a)) == walks
    assert ('+"contacts_person"."department_id"' in page_sql(org.member_a, "-created")) == walks
    # A count or a read by id of the same list keeps the indexes.
    listed = people.list_query(org.member_a, types.ListFilters())
    assert "+" not in str(listed.order_by()[:10].query)
    # 1 of 61 rows: walking the name index would read most of it for one row.
    assert "+" not in page_sql(org.support_member)
    # The head sees every row here but one: a walk too; the rows are those of the plain scope.
    for user in (org.member_a, org.support_member, org.sales_head):
        plain = Person.objects.visible_to(user).order_by("last_name", "first_name", "id")
        assert [p.pk for p in people.list_query(user)[:50]] == [p.pk for p in plain[:50]]
        assert people.list_query(user).count() == plain.count()
