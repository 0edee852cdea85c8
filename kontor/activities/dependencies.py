"""Dependencies between tasks: a task waits on others and cannot be done before them.

The rules every channel meets through the task's services: a task waits only on tasks
its editor can see ("Unknown task." otherwise, as for an id that names nothing); the
tasks it already waits on that the editor cannot see stay; no loop (the message names
it); not done while any task it waits on is still to do (the message names them). A
task the reader cannot see is never named: it is "a task you cannot see".
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from kontor.core.inputs import as_db_id
from kontor.core.services import FieldErrors

from .models import Task

FIELD = "waits_on_ids"
Edge = Task.waits_on.through


def _names(actor, ids) -> dict[int, str]:
    """The titles of the tasks of ``ids`` that ``actor`` may see."""
    return dict(Task.objects.visible_to(actor).filter(pk__in=list(ids)).values_list("pk", "title"))


def _name(names: dict, pk: int) -> str:
    return names.get(pk) or _("a task you cannot see")


def new_waits_on(task: Task, given, actor, errors: FieldErrors) -> set[int] | None:
    """The ids ``task`` will wait on from input ``given`` (a list of ids), or None when
    they are not valid (the reason added to ``errors``)."""
    ids = set()
    for value in given or []:
        pk = as_db_id(value)
        if pk is None:
            errors.add(FIELD, _("Unknown task."))
            return None
        ids.add(pk)
    visible = set(_names(actor, ids))
    if ids - visible:
        errors.add(FIELD, _("Unknown task."))
        return None
    if task.pk is not None and task.pk in ids:
        errors.add(FIELD, _("A task cannot wait on itself."))
        return None
    if task.pk is None:
        return ids
    current = {t.pk for t in task.waits_on_list()}
    hidden = current - set(_names(actor, current))
    ids |= hidden
    if loop := _loop(task.pk, ids - current):
        names = _names(actor, loop)
        errors.add(
            FIELD,
            _("This would make a loop: %(loop)s.")
            % {"loop": " → ".join(_name(names, pk) for pk in loop)},
        )
        return None
    return ids


def _loop(start: int, added: set[int]) -> list[int]:
    """The loop that waiting on ``added`` would close back to ``start``, as task ids from
    ``start`` to ``start`` again, or [] (a walk over the whole graph: a loop may run
    through tasks nobody editing can see)."""
    came_from = {pk: start for pk in added}
    frontier = set(added)
    while frontier:
        if start in frontier:
            path = [start]
            pk = came_from[start]
            while pk != start:
                path.append(pk)
                pk = came_from[pk]
            return [start, *reversed(path[1:]), start]
        step = Edge.objects.filter(from_task_id__in=frontier).values_list(
            "from_task_id", "to_task_id"
        )
        frontier = set()
        for waiting, waited in step:
            if waited not in came_from:
                came_from[waited] = waiting
                frontier.add(waited)
    return []


def check_done(task: Task, waits_on: set[int], actor, errors: FieldErrors) -> None:
    """A task set to done must not wait on a task still to do."""
    open_ids = list(
        Task.objects.filter(pk__in=waits_on, status__in=Task.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if open_ids:
        names = _names(actor, open_ids)
        errors.add(
            "status",
            _("It waits on tasks still to do: %(tasks)s.")
            % {"tasks": ", ".join(_name(names, pk) for pk in open_ids)},
        )


def visible_waits_on(task: Task, actor) -> list[int]:
    """The ids of the tasks ``task`` waits on that ``actor`` may see (the input that
    keeps its list as it is)."""
    return sorted(_names(actor, [t.pk for t in task.waits_on_list()]))


def both_ways(task: Task, user) -> dict:
    """What the task page shows: the tasks it waits on and those waiting on it that
    ``user`` may see, and how many of each they may not."""
    waits_on = Task.objects.filter(blocks=task)
    blocks = Task.objects.filter(waits_on=task)
    visible = Task.objects.visible_to(user)
    shown = {
        "waits_on": list(visible.filter(blocks=task).order_by("due_date", "pk")),
        "blocks": list(visible.filter(waits_on=task).order_by("due_date", "pk")),
    }
    shown["waits_on_hidden"] = waits_on.count() - len(shown["waits_on"])
    shown["blocks_hidden"] = blocks.count() - len(shown["blocks"])
    return shown
