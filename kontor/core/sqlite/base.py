"""Django's SQLite backend, with the process's idle connections kept for the next request.

Under ASGI Django gives each request its own connection (a persistent one would stay
behind in the request's context, never reused), so ``CONN_MAX_AGE`` stays 0 and every
request opened the database anew: read the schema, register Django's SQL functions,
run the pragmas of ``init_command``. At a million people that was 1-2 ms of a 3 ms API
call (docs/benchmarks.md, "The API at the floor"). Here closing hands the connection
to a small pool and opening takes one from it. A connection is pooled only when it is
healthy and outside a transaction; the pool is emptied before the process forks (a
SQLite connection must not cross a fork) and is never used for in-memory databases.
"""

import collections
import os
import threading

from django.db.backends.sqlite3 import base

IDLE_PER_DATABASE = 8

_idle: dict[str, collections.deque] = collections.defaultdict(collections.deque)
_lock = threading.Lock()


def _close_idle() -> None:
    with _lock:
        for connections in _idle.values():
            while connections:
                connections.pop().close()


os.register_at_fork(before=_close_idle)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        if not self.is_in_memory_db():
            with _lock:
                idle = _idle[self.settings_dict["NAME"]]
                if idle:
                    return idle.pop()
        return super().get_new_connection(conn_params)

    def _close(self):
        conn = self.connection
        if conn is None:
            return
        if self.is_in_memory_db() or conn.in_transaction or self.errors_occurred:
            return super()._close()
        with _lock:
            idle = _idle[self.settings_dict["NAME"]]
            if len(idle) < IDLE_PER_DATABASE:
                idle.append(conn)
                return
        return super()._close()
