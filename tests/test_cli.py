"""The installed ``kontor`` command, run as a real process on its own SQLite database.

Each test gets a KONTOR_VAR_DIR of its own (a copy of one migrated once per session), so
the command runs exactly as on a fresh install and never touches the test database.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest

KONTOR = Path(sys.executable).with_name("kontor")
PASSWORD = "Kontor-cli-pass-7"


def kontor_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "KONTOR_SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    env["KONTOR_VAR_DIR"] = str(var_dir)
    env.update(extra)
    return env


def run_kontor(var_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(KONTOR), *args],
        env=kontor_env(var_dir, **env),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    for fragment in fragments:
        assert fragment in last_line, result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("kontor-migrated")
    result = run_kontor(var_dir, "migrate", "--noinput", "-v", "0")
    assert result.returncode == 0, result.stderr
    return var_dir


@pytest.fixture
def var_dir(migrated_template, tmp_path):
    """A migrated Kontor install of this test's own."""
    target = tmp_path / "var"
    shutil.copytree(migrated_template, target)
    return target


def create_user(var_dir, email="ann@example.com", *extra):
    return run_kontor(var_dir, "createuser", "--email", email, "--password", PASSWORD, *extra)


def query(var_dir: Path, code: str) -> str:
    """Runs ``code`` in `kontor shell` against the install and returns what it printed."""
    result = run_kontor(var_dir, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


# -- help ----------------------------------------------------------------------------------


def test_kontor_help_lists_every_command():
    result = run_kontor(Path("/nonexistent"), "--help")
    assert result.returncode == 0
    for command in (
        "serve",
        "worker",
        "events",
        "demo",
        "createuser",
        "token",
        "check",
        "backup",
        "restore",
        "migrate",
        "shell",
        "manage",
    ):
        assert re.search(rf"^\s+{command}\b", result.stdout, re.M), command


@pytest.mark.parametrize(
    ("command", "description"),
    [
        (["serve"], "run the web server"),
        (["worker"], "fire timers and run background jobs"),
        (["events"], "retry event deliveries"),
        (["events", "list"], "last error"),
        (["events", "retry"], "failed deliveries again"),
        (["events", "purge"], "older than N days"),
        (["demo"], "demo company"),
        (["createuser"], "Create a user"),
        (["token"], "API tokens"),
        (["token", "create"], "print only the token"),
        (["check"], "database reachable"),
        (["backup"], "while users work"),
        (["restore"], "empty database DATABASE_URL names"),
        (["migrate"], "database"),
        (["makemigrations"], "migrations"),
        (["shell"], "shell"),
        (["manage"], "Django management command"),
    ],
)
def test_every_subcommand_has_help(command, description, tmp_path):
    result = run_kontor(tmp_path, *command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:") or "Usage:" in result.stdout
    assert description in result.stdout


# -- createuser ----------------------------------------------------------------------------


def test_createuser_creates_the_user_and_the_department(var_dir):
    result = create_user(
        var_dir, "Ann@Example.com", "--department", "Night Shift", "--role", "member"
    )

    assert result.returncode == 0, result.stderr
    assert "ann@example.com" in result.stdout
    user = query(
        var_dir,
        "from kontor.accounts.models import User; u = User.objects.get(email='ann@example.com'); "
        "print(u.department.name, [r.name for r in u.roles.all()], u.check_password("
        f"'{PASSWORD}'), u.is_superuser)",
    )
    assert user == "Night Shift ['member'] True False"


def test_createuser_reuses_an_existing_department(var_dir):
    assert create_user(var_dir, "a@example.com", "--department", "Sales").returncode == 0
    assert create_user(var_dir, "b@example.com", "--department", "sales").returncode == 0
    count = query(
        var_dir,
        "from kontor.accounts.models import Department, User; "
        "print(Department.objects.count(), User.objects.filter(department__name='Sales').count())",
    )
    assert count == "1 2"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--email", "x@example.com", "--password", PASSWORD, "--role", "wizard"], ["wizard"]),
        (["--email", "not-an-email", "--password", PASSWORD], ["email"]),
        (["--email", "x@example.com", "--password", "123"], ["password", "too short"]),
        (["--password", PASSWORD], ["--email", "required"]),
    ],
    ids=["unknown-role", "bad-email", "weak-password", "missing-email"],
)
def test_createuser_refuses_bad_arguments_in_one_line(var_dir, args, fragments):
    result = run_kontor(var_dir, "createuser", *args, "--department", "Ghost")

    assert_one_line_error(result, *fragments)
    assert (
        query(
            var_dir,
            "from kontor.accounts.models import Department, User; "
            "print(User.objects.count(), Department.objects.count())",
        )
        == "0 0"
    )


def test_createuser_refuses_a_duplicate_email(var_dir):
    assert create_user(var_dir, "ann@example.com").returncode == 0

    result = create_user(var_dir, "ANN@example.com")

    assert_one_line_error(result, "already exists")
    assert (
        query(var_dir, "from kontor.accounts.models import User; print(User.objects.count())")
        == "1"
    )


# -- token ---------------------------------------------------------------------------------


def test_token_create_prints_only_the_token(var_dir):
    assert create_user(var_dir).returncode == 0

    result = run_kontor(var_dir, "token", "create", "--user", "ann@example.com", "--name", "sync")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kt_")
    owner = query(
        var_dir,
        "from kontor.accounts.services import user_for_token; "
        f"print(user_for_token('{lines[0]}').email)",
    )
    assert owner == "ann@example.com"


def test_token_create_for_an_unknown_user_is_a_one_line_error(var_dir):
    result = run_kontor(var_dir, "token", "create", "--user", "nobody@example.com")

    assert_one_line_error(result, "nobody@example.com")
    assert result.stdout == ""


# -- worker and events ---------------------------------------------------------------------


def test_events_lists_and_retries_a_failed_delivery_and_the_worker_runs_it(var_dir):
    delivery_id = query(
        var_dir,
        "from kontor.core.models import OutboxDelivery, OutboxEvent; "
        "event = OutboxEvent.objects.create(type='test.thing.done', payload={}, fanned_out=True); "
        "print(OutboxDelivery.objects.create(event=event, handler='test.gone', status='failed', "
        "attempts=10, last_error='Traceback...\\nOSError: disk full').pk)",
    )

    listed = run_kontor(var_dir, "events", "list")
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert line.split("\t")[:4] == [delivery_id, "test.thing.done", "test.gone", "10"]
    assert line.endswith("\tOSError: disk full")

    retried = run_kontor(var_dir, "events", "retry", delivery_id)
    assert (retried.returncode, retried.stdout) == (0, "1 delivery will be retried\n")
    assert run_kontor(var_dir, "events", "list").stdout == ""
    assert run_kontor(var_dir, "events", "list", "--status", "pending").stdout.startswith(
        f"{delivery_id}\ttest.thing.done\ttest.gone\t0\t"
    )
    # No handler is subscribed as test.gone in this install: the attempt fails, visibly.
    worked = run_kontor(var_dir, "worker", "--once")
    assert (worked.returncode, worked.stdout) == (0, "1 delivery run\n")
    pending = run_kontor(var_dir, "events", "list", "--status", "pending").stdout
    assert "\t1\t" in pending and "LookupError" in pending
    # Undelivered, the event stays whatever its age; events with no handler go.
    purged = run_kontor(var_dir, "events", "purge", "--days", "0")
    assert purged.returncode == 0 and purged.stdout.endswith("delivered events removed\n")
    assert run_kontor(var_dir, "events", "list", "--status", "pending").stdout == pending


def test_events_retry_of_an_unknown_delivery_is_a_one_line_error(var_dir):
    assert_one_line_error(run_kontor(var_dir, "events", "retry", "404"), "404")


# -- check ---------------------------------------------------------------------------------


def test_check_passes_on_a_migrated_database(var_dir):
    result = run_kontor(var_dir, "check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   migrations applied" in result.stdout
    assert "FAIL" not in result.stdout


def test_check_fails_on_an_unmigrated_database(tmp_path):
    result = run_kontor(tmp_path, "check")

    assert result.returncode == 1
    assert re.search(r"FAIL \d+ migrations not applied \(run: kontor migrate\)", result.stdout)
    assert "Traceback" not in result.stdout + result.stderr


def test_check_fails_on_an_unreachable_database(tmp_path):
    closed = free_port()  # nothing listens there once the probe socket is closed
    url = f"postgres://kontor:secret@127.0.0.1:{closed}/kontor"

    result = run_kontor(tmp_path, "check", DATABASE_URL=url)

    assert result.returncode == 1
    assert "FAIL database unreachable" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


# -- serve ---------------------------------------------------------------------------------


def http_get(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read(), response.url
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read(), url


class LinkCollector(HTMLParser):
    """The stylesheets a page links and the names of its inputs."""

    def __init__(self):
        super().__init__()
        self.stylesheets: list[str] = []
        self.inputs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "").split():
            self.stylesheets.append(attrs["href"])
        if tag == "input" and attrs.get("name"):
            self.inputs.append(attrs["name"])


@pytest.fixture
def served(var_dir):
    """`kontor serve` on a free port, with one user and an API token."""
    assert create_user(var_dir, "ann@example.com", "--role", "member").returncode == 0
    token = run_kontor(var_dir, "token", "create", "--user", "ann@example.com").stdout.strip()
    port = free_port()
    process = subprocess.Popen(
        [str(KONTOR), "serve", "--port", str(port)],
        env=kontor_env(var_dir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"kontor serve did not start: {process.stdout.read()}")
                time.sleep(0.1)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_answers_the_api_with_a_cli_token(served):
    base, token = served

    status, _, body, _ = http_get(base + "/api/v1/openapi.json")
    assert status == 200 and json.loads(body)["openapi"].startswith("3.")

    status, _, body, _ = http_get(base + "/api/v1/people")
    assert status == 401

    status, _, body, _ = http_get(base + "/api/v1/people", {"Authorization": f"Bearer {token}"})
    assert status == 200
    assert json.loads(body)["items"] == []

    status, _, _, _ = http_get(base + "/api/v1/people", {"Authorization": f"Bearer {token}x"})
    assert status == 401


def test_serve_serves_the_login_page_and_its_stylesheets(served):
    base, _token = served

    status, _headers, body, final_url = http_get(base + "/")

    assert status == 200
    assert final_url != base + "/", "an anonymous visitor is sent to the login page"
    page = LinkCollector()
    page.feed(body.decode())
    assert "password" in page.inputs
    assert page.stylesheets, "the login page links a stylesheet"
    for href in page.stylesheets:
        status, headers, css, _ = http_get(urljoin(final_url, href))
        assert status == 200, href
        assert headers["Content-Type"].startswith("text/css")
        assert b"{" in css
