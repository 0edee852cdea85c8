"""Work done beside this process, by a child forked for it: the second core's share of
a bulk import's cleaning (``kontor.core.bulk``).

The child is forked with this process's state as it is (the batch's lookups, the caches
of definitions and permissions), computes one answer from it and sends it back pickled
(plain values), then ends. It must not touch the database: the connection it inherits
is its parent's, inside the parent's transaction. Every query it tries raises
``NeedsDatabase`` and its answer is dropped, as when it dies, raises, or takes longer
than ``KONTOR_IMPORT_HELPER_SECONDS``: ``result()`` is then None and the parent does the
work itself, so the helper makes an import faster or changes nothing. It dies with its
parent (Linux's parent-death signal): a killed importer leaves no helper behind.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable

from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)

# prctl(2): the signal a process gets when its parent ends.
_PR_SET_PDEATHSIG = 1


class NeedsDatabase(BaseException):
    """A helper's query: not Exception, so that no ``except Exception`` takes it for a
    row's error."""


def available() -> bool:
    """A helper is worth forking: switched on, a second core for it, and room for its
    memory. A helper keeps its own copy of each page of this process's heap that either
    changes while it works (up to 142 MB at 1,000,000 rows): none is forked while this
    process's own private memory is above ``KONTOR_IMPORT_HELPER_MAX_MB``, so that an
    import's peak stays within 400 MB (docs/benchmarks.md)."""
    return (
        settings.KONTOR_IMPORT_HELPER
        and len(os.sched_getaffinity(0)) >= 2
        and _private_mb() <= settings.KONTOR_IMPORT_HELPER_MAX_MB
    )


def _private_mb() -> float:
    """This process's private memory (its heap and SQLite's page cache); 0 where Linux's
    /proc does not tell."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Forked:
    """``work()`` computed in a child forked now; ``result()`` its answer or None."""

    def __init__(self, work: Callable[[], object]):
        context = multiprocessing.get_context("fork")
        self._answers, answer = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_child, args=(work, answer, os.getpid()), daemon=True
        )
        self._process.start()
        answer.close()

    def result(self):
        """The child's answer, or None (it touched the database, failed, died, or took too
        long): the child has ended either way."""
        try:
            if self._answers.poll(settings.KONTOR_IMPORT_HELPER_SECONDS):
                return self._answers.recv()
            log.warning("import helper %s gave no answer in time", self._process.pid)
        except (EOFError, OSError):  # it ended without answering
            pass
        finally:
            self.close()
        return None

    def close(self) -> None:
        """End the child (if still running) and reap it; again, nothing."""
        if self._answers.closed:
            return
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._answers.close()
        self._process.close()


def _child(work: Callable[[], object], answer, parent: int) -> None:
    _die_with(parent)
    refused = []

    def refuse_query(execute, sql, params, many, context):
        refused.append(sql)
        raise NeedsDatabase(sql)

    for connection in connections.all(initialized_only=True):
        connection.execute_wrappers.append(refuse_query)
    try:
        result = work()
    except NeedsDatabase:
        result = None
    # Even where some code took the refusal for an error of its own.
    answer.send(None if refused else result)


def _die_with(parent: int) -> None:
    libc = ctypes.util.find_library("c")
    if libc is not None:
        ctypes.CDLL(libc, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the signal was asked for
        os._exit(1)
