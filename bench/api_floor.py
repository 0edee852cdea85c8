"""Time Kontor's HTTP API against a bare HTTP floor serving the same JSON from the same file.

    .venv/bin/python bench/api_floor.py                    # 1,000,000 people (kontor-1m)
    .venv/bin/python bench/api_floor.py --people 100000    # bench/out/kontor-100k.sqlite3
    .venv/bin/python bench/api_floor.py --only search --iterations 400

The database is made by bench/generate.py if its file is missing. Two servers are
started on 127.0.0.1: Kontor by ``kontor serve`` itself (uvicorn, its worker count),
and the floor, a WSGI function with no framework (``sqlite3``, ``json``,
``phonenumbers``) under the same uvicorn and worker count. Both are asked through real
HTTP on one keep-alive connection each, with a bearer token made by ``kontor token
create`` for the admin (the floor reads the same token table). Each case runs every
input once on both sides first, then alternates Kontor and floor per iteration, and
checks that both answered the same records. Prints medians, 95th percentiles and the
ratio as a Markdown table for docs/benchmarks.md. Loopback only; every loop is bounded.

The floor does what a careful hand-written endpoint must: it checks the token (one
query, with the user's view grants), pages with a capped count, reads a page's first
phone and email in one query each, formats phones for display, and on create
validates, writes the person, its phones and emails, its search document and an audit
row in one transaction. It serves only readers who see every person (the admin).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402
import phonenumbers  # noqa: E402
from run import p95, sample_inputs  # noqa: E402

ADMIN = "admin@bench.example"
FLOOR_DB_ENV = "KONTOR_FLOOR_DB"
COUNT_CAP = 10_000  # as kontor.core.pagination
PAGE = 50
LOOKUP_LIMIT = 20  # as kontor.contacts.services
PHONE_REGION = "RU"

# -- the floor: a WSGI app with no framework -------------------------------------------------

_local = threading.local()


def _db() -> sqlite3.Connection:
    """One connection per server thread, with Kontor's pragmas (kontor/settings.py)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ[FLOOR_DB_ENV], timeout=20, isolation_level=None)
        conn.executescript(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536; PRAGMA mmap_size=4294967296;"
        )
        _local.conn = conn
    return conn


class _Answer(Exception):
    def __init__(self, status: str, body: dict):
        self.status, self.body = status, body


def _iso(stored: str | None) -> str | None:
    """SQLite's stored datetime as Kontor's JSON writes it ("2026-12-01T18:05:49.369Z")."""
    if stored is None:
        return None
    day, _, clock = stored.partition(" ")
    main, _, micro = clock.partition(".")
    return f"{day}T{main}.{(micro or '000')[:3]}Z"


def _ref(pk, name):
    return {"id": pk, "name": name} if pk is not None else None


def _user_name(first, last, email):
    return f"{first or ''} {last or ''}".strip() or email


def _display(e164: str, extension: str) -> str:
    number = phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return f"{number} ext. {extension}" if extension else number


def _e164(text: str):
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        number.extension or "",
    )


def _authenticate(conn, environ) -> tuple[int, int | None, str]:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Bearer "):
        raise _Answer("401 Unauthorized", {"detail": "Authentication required.", "errors": {}})
    digest = hashlib.sha256(header[7:].strip().encode()).hexdigest()
    rows = conn.execute(
        "SELECT u.id, u.department_id, u.email, u.is_superuser, g.scope "
        "FROM accounts_apitoken t JOIN accounts_user u ON u.id = t.user_id "
        "LEFT JOIN accounts_user_roles ur ON ur.user_id = u.id "
        "LEFT JOIN accounts_rolegrant g ON g.role_id = ur.role_id AND g.action = 'view' "
        "AND g.object_type IN ('*', 'contacts.person') "
        "WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.is_active",
        (digest,),
    ).fetchall()
    if not rows:
        raise _Answer("401 Unauthorized", {"detail": "Authentication required.", "errors": {}})
    user_id, department_id, email, superuser, _scope = rows[0]
    if not superuser and max(r[4] or 0 for r in rows) != 4:
        raise _Answer(
            "403 Forbidden", {"detail": "The floor serves only 'all' readers.", "errors": {}}
        )
    return user_id, department_id, email


_LIST_SQL = (
    "SELECT p.id, p.first_name, p.middle_name, p.last_name, p.position, p.version, "
    "p.updated_at, p.company_id, c.name, p.owner_id, u.first_name, u.last_name, u.email, "
    "p.department_id, d.name FROM contacts_person p "
    "LEFT JOIN contacts_company c ON c.id = p.company_id "
    "LEFT JOIN accounts_user u ON u.id = p.owner_id "
    "LEFT JOIN accounts_department d ON d.id = p.department_id "
)
# A term matches a person's own document or their employer's (kontor.core.search: the
# admin sees every company); a type's documents are a range of ids, each its search code
# shifted past 40 bits plus the record's id, one phrase per term.
PERSON_DOCUMENTS, COMPANY_DOCUMENTS = 1 << 40, 2 << 40


def _documents(first: int) -> str:
    return (
        f"SELECT rowid - {first} FROM core_search_fts WHERE core_search_fts MATCH ? "
        f"AND rowid BETWEEN {first} AND {first + (1 << 40) - 1}"
    )


_TERM = (
    f"(p.id IN ({_documents(PERSON_DOCUMENTS)}) "
    f"OR p.company_id IN ({_documents(COMPANY_DOCUMENTS)}))"
)


def _first_of(conn, table: str, columns: str, ids: list[int]) -> dict[int, tuple]:
    marks = ", ".join("?" * len(ids))
    first = {}
    for row in conn.execute(
        f"SELECT person_id, {columns} FROM {table} WHERE person_id IN ({marks}) "
        "ORDER BY person_id, position DESC, id DESC",
        ids,
    ):
        first[row[0]] = row[1:]  # the last written per person is the smallest position
    return first


def _list_page(conn, query: dict) -> dict:
    limit = max(1, min(int(query.get("limit", [PAGE])[0]), 200))
    offset = max(0, int(query.get("offset", [0])[0]))
    terms = " ".join(query.get("q", [""])[0].casefold().split())
    where, params = "", []
    if terms:  # terms of three letters or more only (the benchmark's are)
        where = "WHERE " + " AND ".join([_TERM] * len(terms.split()))
        params = [p for t in terms.split() for p in ['"' + t.replace('"', '""') + '"'] * 2]
    (count,) = conn.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM contacts_person p {where} LIMIT ?)",
        [*params, COUNT_CAP + 1],
    ).fetchone()
    rows = conn.execute(
        f"{_LIST_SQL}{where} ORDER BY p.last_name, p.first_name, p.id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    ids = [r[0] for r in rows]
    phones = _first_of(conn, "contacts_phone", "raw, e164, extension, kind", ids)
    emails = _first_of(conn, "contacts_email", "address, kind", ids)
    items = []
    for r in rows:
        phone, email = phones.get(r[0]), emails.get(r[0])
        items.append(
            {
                "id": r[0],
                "first_name": r[1],
                "middle_name": r[2],
                "last_name": r[3],
                "full_name": " ".join(p for p in r[1:4] if p),
                "position": r[4],
                "company": _ref(r[7], r[8]),
                "owner": _ref(r[9], _user_name(r[10], r[11], r[12]) if r[9] else None),
                "department": _ref(r[13], r[14]),
                "phone": phone
                and {
                    "raw": phone[0],
                    "e164": phone[1],
                    "extension": phone[2],
                    "display": _display(phone[1], phone[2]),
                    "kind": phone[3],
                },
                "email": email and {"address": email[0], "kind": email[1]},
                "version": r[5],
                "updated_at": _iso(r[6]),
            }
        )
    return {
        "items": items,
        "count": min(count, COUNT_CAP),
        "count_capped": count > COUNT_CAP,
        "limit": limit,
        "offset": offset,
    }


def _person(conn, pk: int) -> dict:
    row = conn.execute(
        "SELECT p.id, p.first_name, p.middle_name, p.last_name, p.position, p.company_id, "
        "c.name, p.birthday, p.source, p.notes, p.owner_id, u.first_name, u.last_name, u.email, "
        "p.department_id, d.name, p.version, p.created_at, p.updated_at FROM contacts_person p "
        "LEFT JOIN contacts_company c ON c.id = p.company_id "
        "LEFT JOIN accounts_user u ON u.id = p.owner_id "
        "LEFT JOIN accounts_department d ON d.id = p.department_id WHERE p.id = ?",
        (pk,),
    ).fetchone()
    if row is None:
        raise _Answer("404 Not Found", {"detail": "Not found.", "errors": {}})

    def children(sql):
        return conn.execute(sql, (pk,)).fetchall()

    order = "WHERE person_id = ? ORDER BY position, id"
    return {
        "id": row[0],
        "first_name": row[1],
        "middle_name": row[2],
        "last_name": row[3],
        "full_name": " ".join(p for p in row[1:4] if p),
        "position": row[4],
        "company": _ref(row[5], row[6]),
        "birthday": row[7],
        "source": row[8],
        "notes": row[9],
        "owner": _ref(row[10], _user_name(row[11], row[12], row[13]) if row[10] else None),
        "department": _ref(row[14], row[15]),
        "phones": [
            {"raw": r, "e164": e, "extension": x, "display": _display(e, x), "kind": k}
            for r, e, x, k in children(
                f"SELECT raw, e164, extension, kind FROM contacts_phone {order}"
            )
        ],
        "emails": [
            {"address": a, "kind": k}
            for a, k in children(f"SELECT address, kind FROM contacts_email {order}")
        ],
        "addresses": [
            dict(
                zip(("kind", "street", "city", "region", "postal_code", "country"), r, strict=True)
            )
            for r in children(
                "SELECT kind, street, city, region, postal_code, country FROM contacts_address "
                + order
            )
        ],
        "family": [
            {"relation": r, "name": n, "birthday": b}
            for r, n, b in children(
                "SELECT relation, name, birthday FROM contacts_familymember "
                "WHERE person_id = ? ORDER BY id"
            )
        ],
        "important_dates": [
            {"label": label, "date": day}
            for label, day in children(
                "SELECT label, date FROM contacts_importantdate WHERE person_id = ? "
                "ORDER BY date, id"
            )
        ],
        "tags": [
            name
            for (name,) in children(
                "SELECT t.name FROM contacts_tag t JOIN contacts_person_tags pt "
                "ON pt.tag_id = t.id WHERE pt.person_id = ? ORDER BY t.name"
            )
        ],
        "version": row[16],
        "created_at": _iso(row[17]),
        "updated_at": _iso(row[18]),
    }


def _lookup(conn, query: dict) -> dict:
    parsed = _e164(query.get("phone", [""])[0])
    if parsed is None:
        return {"e164": None, "people": [], "companies": []}
    people, companies = {}, {}
    for row in conn.execute(
        "SELECT p.id, p.first_name, p.middle_name, p.last_name, p.position, p.company_id, e.name, "
        "c.id, c.name FROM contacts_phone ph "
        "LEFT JOIN contacts_person p ON p.id = ph.person_id "
        "LEFT JOIN contacts_company e ON e.id = p.company_id "
        "LEFT JOIN contacts_company c ON c.id = ph.company_id "
        "WHERE ph.e164 = ? ORDER BY p.last_name, p.first_name, p.id, c.name, c.id",
        (parsed[0],),
    ):
        if row[0] is not None and len(people) < LOOKUP_LIMIT:
            people.setdefault(
                row[0],
                {
                    "id": row[0],
                    "name": " ".join(p for p in row[1:4] if p),
                    "position": row[4],
                    "company": _ref(row[5], row[6]),
                },
            )
        elif row[7] is not None and len(companies) < LOOKUP_LIMIT:
            companies.setdefault(row[7], _ref(row[7], row[8]))
    return {
        "e164": parsed[0],
        "people": list(people.values()),
        "companies": list(companies.values()),
    }


def _create(conn, user, body: bytes) -> dict:
    user_id, department_id, email = user
    data = json.loads(body)
    errors = {}
    first_name = str(data.get("first_name") or "").strip()
    if not first_name:
        errors["first_name"] = ["This field is required."]
    phones = []
    for i, item in enumerate(data.get("phones") or []):
        parsed = _e164(item["number"])
        if parsed is None:
            errors[f"phones.{i}.number"] = ["Not a valid phone number."]
        else:
            phones.append((i, item.get("kind") or "mobile", item["number"].strip(), *parsed))
    emails = []
    for i, item in enumerate(data.get("emails") or []):
        address = item["address"].strip()
        if "@" not in address:
            errors[f"emails.{i}.address"] = ["Not a valid email."]
        emails.append((i, item.get("kind") or "work", address, address.lower()))
    company_name = ""
    if data.get("company_id") is not None:
        found = conn.execute(
            "SELECT name FROM contacts_company WHERE id = ?", (data["company_id"],)
        ).fetchone()
        if found is None:
            errors["company_id"] = ["Unknown company."]
        else:
            company_name = found[0]
    if errors:
        raise _Answer("422 Unprocessable Entity", {"detail": "Please correct.", "errors": errors})
    fields = {f: str(data.get(f) or "").strip() for f in ("middle_name", "last_name", "position")}
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    conn.execute("BEGIN IMMEDIATE")
    try:
        pk = conn.execute(
            "INSERT INTO contacts_person (version, created_at, updated_at, first_name, "
            "middle_name, last_name, position, birthday, source, notes, company_id, "
            "department_id, owner_id, company_name, custom) "
            "VALUES (1, ?, ?, ?, ?, ?, ?, NULL, '', '', ?, ?, ?, ?, '{}')",
            (
                now,
                now,
                first_name,
                *fields.values(),
                data.get("company_id"),
                department_id,
                user_id,
                company_name,
            ),
        ).lastrowid
        conn.executemany(
            "INSERT INTO contacts_phone (position, kind, raw, e164, extension, person_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(*p, pk) for p in phones],
        )
        conn.executemany(
            "INSERT INTO contacts_email (position, kind, address, normalized, person_id) "
            "VALUES (?, ?, ?, ?, ?)",
            [(*e, pk) for e in emails],
        )
        name = " ".join(p for p in (first_name, fields["middle_name"], fields["last_name"]) if p)
        words = [name, fields["position"], *(e[2] for e in emails)]
        words += [w for p in phones for w in (p[2], p[3].lstrip("+"))]
        conn.execute(
            "INSERT INTO core_searchdocument (id, object_type, object_id, body) "
            "VALUES (?, 'contacts.person', ?, ?)",
            (PERSON_DOCUMENTS + pk, pk, " ".join(" ".join(words).casefold().split())),
        )
        changes = {
            "first_name": [None, first_name],
            **{k: [None, v] for k, v in fields.items() if v},
        }
        conn.execute(
            "INSERT INTO core_auditentry (at, actor_label, channel, request_id, action, "
            "object_type, object_id, object_repr, changes, actor_id) "
            "VALUES (?, ?, 'api', ?, 'contacts.person.created', 'contacts.person', ?, ?, ?, ?)",
            (now, email, uuid.uuid4().hex, pk, name[:255], json.dumps(changes), user_id),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return _person(conn, pk)


def floor_app(environ, start_response):
    """The floor: /api/v1/people (list, ?q=), /people/<id>, /people/lookup, POST /people."""
    conn = _db()
    path = environ["PATH_INFO"]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    status, headers = "200 OK", [("Content-Type", "application/json")]
    try:
        user = _authenticate(conn, environ)
        if path == "/api/v1/people" and environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body, status = _create(conn, user, environ["wsgi.input"].read(length)), "201 Created"
        elif path == "/api/v1/people":
            body = _list_page(conn, query)
        elif path == "/api/v1/people/lookup":
            body = _lookup(conn, query)
        elif path.startswith("/api/v1/people/") and path[15:].isdigit():
            body = _person(conn, int(path[15:]))
        else:
            raise _Answer("404 Not Found", {"detail": "Not found.", "errors": {}})
        if "version" in body:
            headers.append(("ETag", f'"{body["version"]}"'))
    except _Answer as answer:
        status, body = answer.status, answer.body
    data = json.dumps(body).encode()
    headers.append(("Content-Length", str(len(data))))
    start_response(status, headers)
    return [data]


# -- the driver -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive HTTP/1.1 connection to a server on 127.0.0.1, with the bearer token."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None

    def close(self):
        self.conn.close()


def _wait_until_up(port: int, token: str, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} server exited with {process.returncode}")
        try:
            client = Client(port, token)
            status, _ = client.call("GET", "/api/v1/people/lookup?phone=1")
            client.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{name} server did not answer within 120 s")


def _start(argv: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=None)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _database(people: int) -> Path:
    if people == 1_000_000:
        return _setup.DEFAULT_DB
    return _setup.OUT_DIR / f"kontor-{people // 1000}k.sqlite3"


def _timed(sides: dict, inputs, iterations: int, same=None) -> dict[str, list[float]]:
    """Every input once on every side, then ``iterations`` rounds calling each side in turn.

    ``same(answer)`` must agree across sides for every input, or the comparison is void.
    """
    for value in inputs:
        answers = {label: call(value) for label, call in sides.items()}
        if same is not None:
            seen = {label: same(answer) for label, answer in answers.items()}
            assert len(set(map(repr, seen.values()))) == 1, (value, seen)
    times = {label: [] for label in sides}
    for i in range(iterations):
        value = inputs[i % len(inputs)]
        for label, call in sides.items():
            start = time.perf_counter()
            call(value)
            times[label].append((time.perf_counter() - start) * 1000)
    return times


def _new_person(i: int, company_id: int) -> dict:
    return {
        "first_name": "Bench",
        "last_name": f"Floor{i}",
        "position": "buyer",
        "company_id": company_id,
        "phones": [
            {"number": f"+7 999 {i // 10000 % 1000:03d}-{i // 100 % 100:02d}-{i % 100:02d}"}
        ],
        "emails": [{"address": f"floor{i}@bench.example"}],
    }


def serve_floor(args) -> int:
    import uvicorn

    os.environ[FLOOR_DB_ENV] = str(args.db)
    uvicorn.run(
        "api_floor:floor_app",
        app_dir=str(_setup.BENCH_DIR),
        interface="wsgi",
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        lifespan="off",
    )
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1, help="as `kontor serve` (default 1)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--only", help="run only cases whose name contains this")
    parser.add_argument(
        "--kontor",
        action="append",
        metavar="LABEL=COMMAND",
        help="a `kontor` command to serve and its column name, e.g. "
        "main=/work/main/.venv/bin/kontor (repeatable; default: the one beside this python)",
    )
    parser.add_argument("--label", default="", help="a name for this run in the output file")
    parser.add_argument("--serve-floor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_floor:
        return serve_floor(args)

    bin_dir = Path(sys.executable).parent
    kontors = dict(k.split("=", 1) for k in args.kontor or [f"kontor={bin_dir / 'kontor'}"])
    db = _database(args.people)
    url = f"sqlite:///{db}"
    if not db.exists():
        import generate

        code = generate.main(
            [
                "--people",
                str(args.people),
                "--companies",
                str(max(args.people // 10, 1)),
                "--database-url",
                url,
            ]
        )
        if code:
            return code
    _setup.configure(url)
    from django.db import connection

    ids, typed, search_terms = sample_inputs(connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), MIN(id) FROM contacts_company")
        companies, first_company = cursor.fetchone()
        cursor.execute("SELECT COUNT(*) FROM contacts_person")
        people_count = cursor.fetchone()[0]
    connection.close()

    env = dict(os.environ)
    token = subprocess.run(
        [next(iter(kontors.values())), "token", "create", "--user", ADMIN, "--name", "api floor"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ports = {label: _free_port() for label in ["floor", *kontors]}
    servers = {
        "floor": _start(
            [sys.executable, __file__, "--serve-floor", "--db", str(db)]
            + ["--port", str(ports["floor"]), "--workers", str(args.workers)],
            env,
        )
    }
    for label, command in kontors.items():
        servers[label] = _start(
            [command, "serve", "--host", "127.0.0.1", "--port", str(ports[label])]
            + ["--workers", str(args.workers)],
            env,
        )
    results = []
    try:
        for label, process in servers.items():
            _wait_until_up(ports[label], token, process, label)
        clients = {label: Client(port, token) for label, port in ports.items()}

        def get(client, path):
            status, body = client.call("GET", path)
            assert status == 200, (path, status, body)
            return body

        def ids_of(page):
            return [item["id"] for item in page["items"]], page["count"]

        def lookup_ids(found):
            return [p["id"] for p in found["people"]], [c["id"] for c in found["companies"]]

        created = iter(range(10**9))
        stamp = int(time.time()) % 100_000

        def create(client):
            person = _new_person(stamp * 1000 + next(created) % 1000, first_company)
            status, body = client.call("POST", "/api/v1/people", person)
            assert status == 201, (status, body)
            return body

        n = args.iterations
        cases = [
            ("list page 1 (50)", lambda c, _v: get(c, "/api/v1/people"), [None], n // 2, ids_of),
            (
                "get one person",
                lambda c, pk: get(c, f"/api/v1/people/{pk}"),
                ids,
                n,
                lambda p: (p["id"], len(p["phones"]), len(p["emails"])),
            ),
            (
                "phone lookup",
                lambda c, t: get(c, f"/api/v1/people/lookup?phone={quote(t)}"),
                typed,
                n,
                lookup_ids,
            ),
            (
                "name search (?q=)",
                lambda c, q: get(c, f"/api/v1/people?q={quote(q)}"),
                search_terms,
                n,
                ids_of,
            ),
            ("create a person", lambda c, _v: create(c), [None], n // 4, None),
        ]
        for name, call, inputs, iterations, same in cases:
            if args.only and args.only not in name:
                continue
            sides = {
                label: (lambda v, c=client, f=call: f(c, v)) for label, client in clients.items()
            }
            times = _timed(sides, inputs, iterations, same)
            r = {"case": name, "iterations": iterations}
            for label, values in times.items():
                r[label] = {"median_ms": statistics.median(values), "p95_ms": p95(values)}
            results.append(r)
            print(f"{name:20s}", _cells(r, ["floor", *kontors]), flush=True)
        for client in clients.values():
            client.close()
    finally:
        for process in servers.values():
            _stop(process)

    print(f"\nSQLite, {people_count:,} people, {companies:,} companies, {args.workers} worker(s)\n")
    print(
        "| case | floor median (p95) | " + " | ".join(f"{k} median (p95), ratio" for k in kontors)
    )
    print("| --- | --- | " + " | ".join("---" for _ in kontors) + " |")
    for r in results:
        print(f"| {r['case']} | {_cells(r, ['floor', *kontors], sep=' | ')} |")
    suffix = f"-{args.label}" if args.label else ""
    out = _setup.OUT_DIR / f"api-floor-{people_count // 1000}k{suffix}.json"
    out.write_text(json.dumps({"people": people_count, "results": results}, indent=2))
    return 0


def _cells(result: dict, labels: list[str], sep: str = "  ") -> str:
    floor = result["floor"]["median_ms"]
    cells = []
    for label in labels:
        times = result[label]
        cell = f"{times['median_ms']:.2f} ms ({times['p95_ms']:.2f})"
        if label != "floor":
            cell += f", {times['median_ms'] / floor:.1f}×"
        cells.append(cell)
    return sep.join(cells)


if __name__ == "__main__":
    sys.exit(main())
