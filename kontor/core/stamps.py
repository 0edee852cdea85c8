"""Tokens that tell every process a kind of definition changed.

Processes cache definitions (custom fields, custom object types) and, before using
them, read the kind's token: one ``DefinitionStamp`` row, replaced by a fresh random
value inside every changing transaction. A changed token means "load again", so a
definition made in one server process is used by all the others without a restart.

Within one request the tokens are read once, all in one query (``read_once``, entered
by ``RequestContextMiddleware``, and around a bulk import): a page asks for definitions
several times, an import for every row, and another process's change may wait for the
next request. Elsewhere (workers, tests) every call reads the row.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid

from django.db import connection

from .models import DefinitionStamp

# One primary-key read written by hand (the ORM's query building cost more than the
# read itself); both databases quote names with double quotes.
_SQL = 'SELECT value FROM "core_definitionstamp" WHERE name = %s'
_SQL_ALL = 'SELECT name, value FROM "core_definitionstamp"'
_READ_ALL = None  # the memo's mark: this request has read every token

_request_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "definition_stamps", default=None
)


@contextlib.contextmanager
def read_once(*, now: bool = False):
    """Tokens read at most once within; ``now``: read on entering (a bulk import's
    helper process, forked later, cannot read them itself)."""
    token = _request_memo.set({})
    try:
        if now:
            current("")
        yield
    finally:
        _request_memo.reset(token)


def current(name: str) -> str:
    memo = _request_memo.get()
    if memo is None:
        with connection.cursor() as cursor:
            cursor.execute(_SQL, [name])
            row = cursor.fetchone()
        return row[0] if row else ""
    if _READ_ALL not in memo:
        # Every kind's token at once (a handful of rows): a request that asks for custom
        # fields, object types and modules reads the table once, not once for each.
        with connection.cursor() as cursor:
            cursor.execute(_SQL_ALL)
            memo.update(cursor.fetchall())
        memo[_READ_ALL] = True
    return memo.get(name, "")


def bump(name: str) -> None:
    """Tell every process that ``name``'s definitions changed (inside the changing
    transaction: a rollback takes the new token back with the change)."""
    DefinitionStamp.objects.update_or_create(name=name, defaults={"value": uuid.uuid4().hex})
    memo = _request_memo.get()
    if memo is not None:
        # This request's own change is read back at once (and rolled back, the old one).
        memo.pop(name, None)
        memo.pop(_READ_ALL, None)
