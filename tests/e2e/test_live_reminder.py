"""A reminder comes due while the assignee has Kontor open in another tab: its bell shows
it without a reload.

Not pytest-django's live server (a WSGI server, which cannot stream): a real
``kontor serve`` on a database file of the test's own, whose in-process dispatcher fires
the reminder's timer and whose ASGI router serves the bell's event stream.
"""

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

KONTOR = Path(sys.executable).with_name("kontor")
REPO = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "anna@example.com", "a long test password 1"


def run(env, *args):
    done = subprocess.run(
        [str(KONTOR), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def server(tmp_path):
    """``kontor serve`` on a fresh SQLite file with one user: its base URL."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KONTOR_SECRET_KEY")},
        "KONTOR_VAR_DIR": str(tmp_path),
        "KONTOR_EVENTS_POLL_SECONDS": "0.2",
        "KONTOR_LIVE_POLL_SECONDS": "0.5",
    }
    run(env, "manage", "migrate", "--verbosity", "0")
    run(
        env,
        "createuser",
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
        "--role",
        "member",
        "--department",
        "Sales",
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [str(KONTOR), "serve", "--port", str(port)], env=env, cwd=REPO, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, (
                tmp_path / "serve.log"
            ).read_text()
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def new_page_of(browser):
    """Pages in contexts of their own, closed (and their event streams with them) after
    the test, before the server stops."""
    contexts = []

    def make(base_url):
        context = browser.new_context(base_url=base_url, locale="en-US")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def test_a_reminder_due_in_seconds_shows_live_in_another_open_page(server, new_page_of):
    def page():
        return new_page_of(server)

    watching, working = page(), page()
    log_in(watching, EMAIL, PASSWORD)
    assert watching.get_by_test_id("bell").locator(".bell-count").count() == 0
    log_in(working, EMAIL, PASSWORD)

    working.goto("/tasks/new/")
    working.get_by_label("Title").fill("Call Petrov back")
    soon = timezone.localtime(timezone.now() + timedelta(seconds=3))
    # To the second (the form does not hold the browser to whole minutes: novalidate).
    working.get_by_label("Remind me at").evaluate(
        "(input, value) => { input.value = value; }", soon.strftime("%Y-%m-%dT%H:%M:%S")
    )
    working.get_by_role("button", name="Save").click()
    working.wait_for_url("**/tasks/*/")

    # The other page was never reloaded: its bell learns of the reminder by itself.
    count = watching.get_by_test_id("bell").locator(".bell-count")
    count.wait_for(state="visible", timeout=20_000)
    assert count.inner_text() == "1"
    watching.get_by_test_id("bell").click()
    assert watching.get_by_text("Reminder: Call Petrov back").is_visible()
