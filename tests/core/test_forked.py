"""Work done in a forked helper (kontor.core.forked): its answer, or None whenever it
cannot give one, and never a helper left running."""

import os
import signal
import subprocess
import sys
import time

import pytest

from kontor.contacts.models import Person
from kontor.core import forked
from tests.core.test_outbox_kill import REPO

pytestmark = pytest.mark.django_db


def test_a_helper_answers_with_what_its_work_returns():
    assert forked.Forked(lambda: {"rows": [[1, "Ivan", None]]}).result() == {
        "rows": [[1, "Ivan", None]]
    }


def test_a_helper_that_asks_the_database_or_fails_gives_no_answer(org):
    def swallowed():
        try:
            return Person.objects.count()
        except BaseException:  # noqa: BLE001  (as careless code would)
            return -1

    assert forked.Forked(lambda: Person.objects.count()).result() is None
    assert forked.Forked(swallowed).result() is None
    assert forked.Forked(lambda: 1 / 0).result() is None
    # The parent's connection, which the helper shared, still works.
    assert Person.objects.count() == 0


def test_the_helper_of_a_killed_process_ends_with_it(tmp_path):
    script = (
        "import os, time, django\n"
        "django.setup()\n"
        "from kontor.core import forked\n"
        "helper = forked.Forked(lambda: time.sleep(120))\n"
        "print(helper._process.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kontor.settings", "PYTHONPATH": str(REPO),
           "KONTOR_VAR_DIR": str(tmp_path)}  # fmt: skip
    parent = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    helper = None
    try:
        helper = int(parent.stdout.readline())
        assert os.path.exists(f"/proc/{helper}")
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(helper) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(helper)
    finally:
        parent.kill()
        parent.stdout.close()
        if helper is not None and alive(helper):
            os.kill(helper, signal.SIGKILL)


def alive(pid: int) -> bool:
    """Running (not a zombie waiting for whoever adopted it to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
