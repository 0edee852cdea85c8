"""The SIGKILL fault test (test_kill) again, with a helper process cleaning most of each
batch (kontor.core.forked): the same guarantees, and no helper outlives its importer."""

import os

from . import test_kill


def test_a_killed_import_with_helpers_is_whole_absent_or_resumed(database, tmp_path, monkeypatch):
    # Batches of 20 rows: the helper cleans 12 of each (where the machine has two cores).
    monkeypatch.setenv("KONTOR_IMPORT_HELPER_MIN_ROWS", "10")
    test_kill.test_a_killed_import_is_whole_absent_or_resumed_without_duplicates(database, tmp_path)
    assert not processes_running_in(tmp_path)


def processes_running_in(directory) -> list[int]:
    """Processes (an importer, a worker, a helper forked by either) named with a file
    under ``directory``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if str(directory).encode() in cmdline.read():
                    found.append(int(pid))
        except OSError:  # ended meanwhile
            continue
    return found
