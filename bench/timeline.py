"""Time a company's timeline (20,000 entries across 200 people) and My day (5,000 open
tasks), each beside the bare SQL that reads the same rows, in the same run.

    .venv/bin/python bench/timeline.py                       # a fresh SQLite file
    .venv/bin/python bench/timeline.py --database-url postgres://.../empty_db

The database must be empty (it is migrated and filled here). The reader is a member of
the sales team that holds every record (role member: their department's records), so
the scope's condition is in every query as it is for a user of a real company.
"""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

SEED = 13
PEOPLE = 200
ENTRIES = 20_000
OPEN_TASKS = 5_000


def timed(fn, iterations: int) -> tuple[float, float]:
    """Median and 95th percentile in ms, after warming up."""
    for _ in range(5):
        fn()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def build(rng: random.Random):
    from django.core.management import call_command
    from django.utils import timezone

    from kontor.accounts import services as accounts
    from kontor.accounts.models import Role
    from kontor.activities.entry_types import CALL, EMAIL, NOTE
    from kontor.activities.types import TASK
    from kontor.contacts import bulk as contact_bulk
    from kontor.contacts import services as contacts
    from kontor.core import bulk
    from kontor.core.access import SYSTEM

    call_command("migrate", verbosity=0)
    root = accounts.create_department(name="Bench", parent=None, actor=SYSTEM)
    team = accounts.create_department(name="Sales", parent=root, actor=SYSTEM)
    member = accounts.create_user(
        email="member@bench.example",
        password=None,
        department=team,
        roles=[Role.objects.get(name="member")],
        actor=SYSTEM,
    )
    colleague = accounts.create_user(
        email="colleague@bench.example",
        password=None,
        department=team,
        roles=[Role.objects.get(name="member")],
        actor=SYSTEM,
    )
    placed = {"department_id": team.pk}
    company = contacts.create_company(
        {"name": "Timeline GmbH", "owner_id": colleague.pk, **placed}, actor=SYSTEM
    )
    people = contact_bulk.import_people(
        [
            {
                "first_name": f"Person{i}",
                "last_name": "Bench",
                "company_id": company.pk,
                "owner_id": colleague.pk,
                **placed,
            }
            for i in range(PEOPLE)
        ],
        actor=SYSTEM,
    ).ids
    now = timezone.now()

    def entry(moment_field: str, row: dict) -> dict:
        return {
            **row,
            moment_field: now - datetime.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60)),
            "owner_id": rng.choice([member.pk, colleague.pk]),
            "links": [f"person:{rng.choice(people)}"],
            **placed,
        }

    share = ENTRIES // 4
    bulk.import_rows(
        NOTE, [entry("noted_at", {"body": f"Note {i}"}) for i in range(share)], actor=SYSTEM
    )
    bulk.import_rows(
        CALL, [entry("started_at", {"summary": f"Call {i}"}) for i in range(share)], actor=SYSTEM
    )
    bulk.import_rows(
        EMAIL, [entry("sent_at", {"subject": f"Email {i}"}) for i in range(share)], actor=SYSTEM
    )
    # Tasks stand on a timeline at their creation: dated by the import, spread after it.
    bulk.import_rows(
        TASK,
        [
            {
                "title": f"Task {i}",
                "owner_id": colleague.pk,
                "links": [f"person:{rng.choice(people)}"],
                "due_date": (now - datetime.timedelta(days=rng.randrange(-30, 300))).date(),
                "status": "done",
                **placed,
            }
            for i in range(share)
        ],
        actor=SYSTEM,
    )
    today = timezone.localdate()
    bulk.import_rows(
        TASK,
        [
            {
                "title": f"Mine {i}",
                "owner_id": member.pk,
                **placed,
                "due_date": today + datetime.timedelta(days=rng.randrange(-60, 120)),
            }
            for i in range(OPEN_TASKS)
        ],
        actor=SYSTEM,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return member, company


def bare_timeline(member, company) -> list[tuple[str, int]]:
    """The first page's rows read by hand, the same rows ``timeline.feed`` reads: the
    company's link rows (its own and its people's entries, the member's department's or
    own), each entry type's rows by id with their owner's name, the entries' other
    direct links and the names of the people they name."""
    from django.db import connection

    from kontor.core import timeline

    kinds = timeline.entry_types()
    marks = ", ".join(["%s"] * len(kinds))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT occurred_at, entry_id, entry_type FROM core_timelinelink
            WHERE subject_type = 'contacts.company' AND subject_id = %s
              AND entry_type IN ({marks})
              AND (owner_id = %s OR department_id = %s)
            ORDER BY occurred_at DESC, entry_id DESC, entry_type DESC LIMIT 31""",
            [company.pk, *[rt.object_type for rt in kinds], member.pk, member.department_id],
        )
        page = cursor.fetchall()[:30]
        by_type: dict[str, list[int]] = {}
        for _moment, pk, entry_type in page:
            by_type.setdefault(entry_type, []).append(pk)
        for rt in kinds:
            ids = by_type.get(rt.object_type)
            if ids:
                table = rt.model._meta.db_table
                cursor.execute(
                    f"""SELECT e.*, u.first_name, u.last_name, u.email FROM {table} e
                    LEFT JOIN accounts_user u ON u.id = e.owner_id
                    WHERE e.id IN ({", ".join(["%s"] * len(ids))})""",
                    ids,
                )
                cursor.fetchall()
        pairs = [(entry_type, pk) for _moment, pk, entry_type in page]
        cursor.execute(
            f"""SELECT entry_type, entry_id, subject_type, subject_id FROM core_timelinelink
            WHERE direct AND ({" OR ".join(["(entry_type = %s AND entry_id = %s)"] * len(pairs))})
              AND NOT (subject_type = 'contacts.company' AND subject_id = %s)""",
            [value for pair in pairs for value in pair] + [company.pk],
        )
        people = {row[3] for row in cursor.fetchall() if row[2] == "contacts.person"}
        if people:
            cursor.execute(
                f"""SELECT id, first_name, middle_name, last_name FROM contacts_person
                WHERE (owner_id = %s OR department_id = %s)
                  AND id IN ({", ".join(["%s"] * len(people))})""",
                [member.pk, member.department_id, *people],
            )
            cursor.fetchall()
    return pairs


def bare_my_day(member) -> int:
    """My day's task rows read by hand, as the page reads them: the member's overdue
    tasks one status at a time (each a walk of the owner's index), today's, and how
    many of each there are."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.localtime()
    today = connection.ops.adapt_datefield_value(now.date())
    moment = connection.ops.adapt_timefield_value(now.time())
    overdue = "(due_date < %s OR (due_date = %s AND due_time < %s))"
    overdue_params = [today, today, moment]
    columns = "SELECT * FROM activities_task WHERE owner_id = %s"
    order = "ORDER BY due_date, due_time, id LIMIT 26"
    with connection.cursor() as cursor:
        rows = 0
        for status in ("open", "in_progress"):
            cursor.execute(
                f"{columns} AND status = %s AND {overdue} {order}",
                [member.pk, status, *overdue_params],
            )
            rows += len(cursor.fetchall())
        later_today = "due_date = %s AND (due_time IS NULL OR due_time >= %s)"
        cursor.execute(
            f"{columns} AND status IN ('open', 'in_progress') AND {later_today} {order}",
            [member.pk, today, moment],
        )
        rows += len(cursor.fetchall())
        cursor.execute(
            f"""SELECT SUM(CASE WHEN {overdue} THEN 1 ELSE 0 END),
                SUM(CASE WHEN {later_today} THEN 1 ELSE 0 END)
            FROM activities_task WHERE owner_id = %s AND status IN ('open', 'in_progress')
              AND due_date <= %s""",
            [*overdue_params, today, moment, member.pk, today],
        )
        cursor.fetchall()
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty database; default: a fresh SQLite file")
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args(argv)
    url = args.database_url
    if url is None:
        path = _setup.OUT_DIR / "timeline.sqlite3"
        _setup.OUT_DIR.mkdir(exist_ok=True)
        for leftover in _setup.OUT_DIR.glob("timeline.sqlite3*"):
            leftover.unlink()
        url = f"sqlite:///{path}"
    _setup.configure(url)
    from django.db import connection
    from django.test import Client

    from kontor.core import timeline

    started = time.perf_counter()
    member, company = build(random.Random(SEED))
    print(f"{connection.vendor}: built in {time.perf_counter() - started:.1f} s")

    page = timeline.feed(member, company)
    assert [(e.rt.object_type, e.obj.pk) for e in page.entries] == bare_timeline(member, company)
    assert len(page.entries) == timeline.PAGE_SIZE

    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(member)
    tab = f"/companies/{company.pk}/timeline/"
    assert browser.get(tab).status_code == 200
    assert browser.get("/my-day/").status_code == 200

    results = {
        "company timeline, first page (timeline.feed)": timed(
            lambda: timeline.feed(member, company), args.iterations
        ),
        "same rows, bare SQL": timed(lambda: bare_timeline(member, company), args.iterations),
        "company timeline tab, whole page (test client)": timed(
            lambda: browser.get(tab), args.iterations
        ),
        "My day, whole page (test client)": timed(lambda: browser.get("/my-day/"), args.iterations),
        "My day's task rows and counts, bare SQL": timed(
            lambda: bare_my_day(member), args.iterations
        ),
    }
    for name, (median, p95) in results.items():
        print(f"{name:52} median {median:7.2f} ms   p95 {p95:7.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
