"""The home dashboard with six widgets on the 1,000,000-people database, beside the bare SQL
of the same queries, in the same run.

    .venv/bin/python bench/dashboards.py               # bench/out/kontor-1m.sqlite3
    .venv/bin/python bench/dashboards.py --database-url postgres://bench@127.0.0.1:55432/bench

Make the database first with bench/generate.py. The first run adds what a dashboard
reads beyond people (bulk SQL through the ORM, not the services: reads are measured):
20,000 deals in the default pipeline and 20,000 tasks spread over the sales staff as
the people are, of which each sales member owns some open ones; this month's targets of
the members and of the sales teams; two saved views of the viewer (their department's
people sorted by name; open deals); and, for each viewer, a dashboard of six widgets,
one of each main kind: my tasks, a saved view (10 rows), a chart of the deals view by
stage, a figure of it (its amounts per currency), plan vs actual, birthdays (7 days).
Later runs reuse them.

Timed, for a sales team member (department scope: some 112,000 people) and the head of
sales (subtree: nine people in ten), medians and 95th percentiles after a warm-up:

- the home page through Django's test client (middleware, session, template), and the
  widgets' reads alone (``kind.read`` of each, for the viewer);
- bare SQL: the very statements the page ran (captured once), executed again on the
  same connection and read to the last row: the floor of those reads.
"""

from __future__ import annotations

import argparse
import datetime
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

SEED = 16
DEALS = 20_000
TASKS = 20_000
VIEWERS = ("sales1.1@bench.example", "head@bench.example")
DASHBOARD = "Bench dashboard"


def timed(fn, iterations: int, warm_up: int = 3) -> tuple[float, float]:
    for _ in range(warm_up):
        fn()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def add_records(staff) -> None:
    """Deals, tasks and targets over the generator's sales staff (first run only)."""
    from django.utils import timezone

    from kontor.activities.models import Task
    from kontor.sales.models import Deal, Pipeline, Target

    rng = random.Random(SEED)
    pipeline = Pipeline.objects.order_by("position", "id").first()
    stages = list(pipeline.stages.order_by("position"))
    now = timezone.now()
    today = timezone.localdate()
    deals, tasks = [], []
    for i in range(DEALS):
        owner = staff[i % len(staff)]
        stage = rng.choice(stages)
        deals.append(
            Deal(
                title=f"Bench deal {i}",
                pipeline=pipeline,
                stage=stage,
                amount=Decimal(rng.randrange(100, 100_000)),
                currency=rng.choice(("EUR",) * 8 + ("USD", "RUB")),
                owner_id=owner.pk,
                department_id=owner.department_id,
                expected_close=today + datetime.timedelta(days=rng.randrange(-30, 120)),
                closed_at=None if stage.kind == "open" else now,
                stage_entered_at=now,
            )
        )
    for i in range(TASKS):
        owner = staff[i % len(staff)]
        tasks.append(
            Task(
                title=f"Bench task {i}",
                status=rng.choice(("open", "open", "in_progress", "done", "cancelled")),
                due_date=today + datetime.timedelta(days=rng.randrange(-20, 40)),
                owner_id=owner.pk,
                department_id=owner.department_id,
                created_by_id=owner.pk,
            )
        )
    Deal.objects.bulk_create(deals, batch_size=2000)
    Task.objects.bulk_create(tasks, batch_size=2000)
    month = today.replace(day=1)
    departments = {member.department_id for member in staff}
    Target.objects.bulk_create(
        [
            Target(
                user=member,
                period="month",
                starts_on=month,
                amount=Decimal(50_000),
                currency="EUR",
                won_count=5,
            )
            for member in staff
        ]
        + [
            Target(
                department_id=pk,
                period="month",
                starts_on=month,
                amount=Decimal(500_000),
                currency="EUR",
            )
            for pk in departments
        ]
    )


def dashboard_of(viewer):
    """The viewer's dashboard of six widgets (made on the first run)."""
    from kontor.core import types
    from kontor.dashboards import services
    from kontor.dashboards.models import Dashboard
    from kontor.savedviews import services as views

    found = Dashboard.objects.filter(owner=viewer, name=DASHBOARD).first()
    if found is not None:
        return found
    people = views.create(
        types.get("contacts.person"),
        {"name": "Bench people", "query": {"sort": "name"}},
        actor=viewer,
    )
    deals = views.create(
        types.get("sales.deal"),
        {"name": "Bench open deals", "query": {"status": "open"}},
        actor=viewer,
    )
    dashboard = services.create_dashboard({"name": DASHBOARD}, actor=viewer)
    for kind, given in (
        ("my_tasks", {"rows": "10"}),
        ("saved_view", {"view_id": people.pk, "rows": "10"}),
        ("view_chart", {"view_id": deals.pk, "group_by": "stage", "measure": "count"}),
        ("metric", {"view_id": deals.pk, "measure": "sum.amount"}),
        ("plan_vs_actual", {"period": "month"}),
        ("birthdays", {"days": "7"}),
    ):
        services.add_widget(dashboard, kind, {k: str(v) for k, v in given.items()}, actor=viewer)
    return dashboard


def measure(viewer, iterations: int) -> dict[str, tuple[float, float, int | None]]:
    """{what: (median, p95, statements)} of the viewer's home page and its parts."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kontor.dashboards import services, widgets

    dashboard_of(viewer)
    home = services.home(viewer)
    assert len(home.widgets) == 6, home.widgets
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(viewer)

    def page():
        answer = browser.get("/")
        assert answer.status_code == 200 and answer.content.count(b'data-testid="widget"') == 6

    def reads():
        for widget in home.widgets:
            widgets.get(widget.kind).read(viewer, widget)

    with CaptureQueriesContext(connection) as captured:
        page()
    statements = [q["sql"] for q in captured.captured_queries]

    def bare():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                if cursor.description:
                    cursor.fetchall()

    found = {
        "home page, 6 widgets (test client)": (*timed(page, iterations), len(statements)),
        "the 6 widgets' reads alone": (*timed(reads, iterations), None),
        "bare SQL: the page's statements again": (*timed(bare, iterations), len(statements)),
    }
    for widget in home.widgets:
        kind = widgets.get(widget.kind)
        found[f"widget: {widget.kind}"] = (
            *timed(lambda kind=kind, widget=widget: kind.read(viewer, widget), iterations // 2),
            None,
        )
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: sqlite:///bench/out/kontor-1m.sqlite3")
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument(
        "--viewer",
        action="append",
        help=f"a viewer's email (repeat for more); default: {', '.join(VIEWERS)}. "
        "sales1.2@bench.example owns 12,500 people: birthdays to find",
    )
    args = parser.parse_args(argv)
    _setup.configure(args.database_url)

    from django.contrib.auth import get_user_model
    from django.db import connection

    from kontor.activities.models import Task
    from kontor.contacts.models import Person
    from kontor.sales.models import Deal

    users = get_user_model().objects
    staff = list(users.filter(email__startswith="sales"))
    if not Deal.objects.filter(title__startswith="Bench deal").exists():
        add_records(staff)
    print(
        f"{connection.vendor}: {Person.objects.count():,} people, {Deal.objects.count():,} "
        f"deals, {Task.objects.count():,} tasks\n"
    )
    print("| viewer | what | median | p95 | statements |")
    print("| --- | --- | --- | --- | --- |")
    for email in args.viewer or VIEWERS:
        found = measure(users.get(email=email), args.iterations)
        for what, (median, p95, count) in found.items():
            counted = "" if count is None else count
            print(
                f"| {email.split('@')[0]} | {what} | {median:.1f} ms | {p95:.1f} ms | {counted} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
