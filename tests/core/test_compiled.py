"""Reads compiled once per shape (core.compiled): the same rows and instances as the
queryset they stand for, one statement per key, nothing shared between scopes."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from kontor.activities import services
from kontor.activities.models import Task
from kontor.core import compiled
from kontor.core.access import Action, scope_q
from kontor.core.models import TimelineLink
from kontor.core.types import select_names

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_shapes():
    compiled.forget_all()
    yield
    compiled.forget_all()


def _tasks(org):
    mine = [services.create_task({"title": f"Anna {i}"}, actor=org.member_a) for i in range(3)]
    theirs = services.create_task({"title": "Sam"}, actor=org.support_member)
    return mine, theirs


def _read(user, ids, calls):
    def build():
        calls.append(user.pk)
        return select_names(Task.objects.visible_to(user), "owner")

    key = ("test-tasks", scope_q(user, Task, Action.VIEW))
    return compiled.by_ids(key, build, ids)


def test_the_rows_and_their_linked_records_are_the_querysets(org):
    mine, theirs = _tasks(org)
    ids = [task.pk for task in (*mine, theirs)]
    calls = []
    with CaptureQueriesContext(connection) as queries:
        found = _read(org.member_a, ids, calls)
        owners = [task.owner.email for task in found]  # read with the rows
    assert len(queries.captured_queries) == 1
    assert sorted(task.pk for task in found) == sorted(task.pk for task in mine)
    assert owners == ["anna@example.com"] * 3
    expected = select_names(Task.objects.visible_to(org.member_a), "owner").filter(pk__in=ids)
    assert {task.pk: task.title for task in found} == {task.pk: task.title for task in expected}


def test_a_shape_is_compiled_once_and_run_with_each_reads_ids(org):
    mine, _theirs = _tasks(org)
    calls = []
    first = _read(org.member_a, [mine[0].pk], calls)
    second = _read(org.member_a, [mine[1].pk, mine[2].pk, mine[1].pk], calls)
    assert calls == [org.member_a.pk]
    assert [task.pk for task in first] == [mine[0].pk]
    assert sorted(task.pk for task in second) == sorted([mine[1].pk, mine[2].pk])


def test_each_scope_is_a_shape_of_its_own(org):
    mine, theirs = _tasks(org)
    ids = [task.pk for task in (*mine, theirs)]
    calls = []
    assert [task.pk for task in _read(org.support_member, ids, calls)] == [theirs.pk]
    assert len(_read(org.member_a, ids, calls)) == 3
    assert _read(org.nobody, ids, calls) == []  # no grant: a statement of no rows
    assert _read(org.nobody, ids, calls) == []
    assert calls == [org.support_member.pk, org.member_a.pk, org.nobody.pk]


def test_nothing_to_read_runs_no_statement(org):
    mine, _theirs = _tasks(org)
    with CaptureQueriesContext(connection) as queries:
        assert compiled.by_ids("none", lambda: Task.objects.all(), []) == []
        assert compiled.by_ids("empty", lambda: Task.objects.filter(pk__in=[]), [mine[0].pk]) == []
    assert queries.captured_queries == []


def test_only_a_plain_filtered_read_compiles(org):
    with pytest.raises(ValueError):
        compiled.by_ids("sliced", lambda: Task.objects.all()[:5], [1])


def test_a_condition_compiles_to_its_sql_or_to_every_or_no_row(org):
    assert compiled.where(TimelineLink, Q()) == ("", ())
    assert compiled.where(TimelineLink, Q(pk__in=[])) is None
    sql, params = compiled.where(TimelineLink, Q(owner_id=7) | Q(department_id=3), key="k")
    assert "owner_id" in sql and "department_id" in sql and params == (7, 3)
    # Kept under its key: the same answer without compiling again.
    assert compiled.where(TimelineLink, Q(owner_id=8), key="k") == (sql, params)
