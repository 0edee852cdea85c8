"""Time the deals board, the funnel report and a stage move on 1,000,000 deals, each
beside the bare SQL that gives the same result, in the same run.

    .venv/bin/python bench/sales.py                    # /tmp/bench-sales/deals-1000000.sqlite3
    .venv/bin/python bench/sales.py --deals 100000     # a quick run
    .venv/bin/python bench/sales.py --database-url postgres://bench@127.0.0.1:55434/bench_sales

The database comes from ``--database-url`` (default: ``DATABASE_URL``, else a SQLite file
under /tmp/bench-sales named by the count of deals). An empty one is filled first; one
that already holds the benchmark's deals is reused as it is (``--fresh``: a new SQLite
file). Generation writes with bulk SQL (``COPY`` on PostgreSQL): the staff of
``bench/generate.py``, three pipelines, companies and people through the bulk import,
then the deals over three years with their stage histories (every move a
``StageChange``), an open task on one open deal in three (and its timeline row), and
each deal's search document. No audit entries: nothing timed reads them.

Timed, as the head of sales (subtree scope, nine records in ten), each after a warm-up,
medians and 95th percentiles:

- board: what one board page reads: ``board.columns`` and the first page of
  ``board.cards`` of each open stage of the first pipeline (a third of the deals), with
  client, owner and next task;
- funnel: ``reports.funnel`` of that pipeline over the last twelve whole months;
- move: ``services.move_deal`` of an open deal to its next open stage (its
  ``StageChange``, version, audit entry, event, search document), the deal read before
  the clock starts (``DEAL.one``, as the view does); every iteration moves another deal,
  so a rerun finds the deals a little further on.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import itertools
import json
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

SEED = 14
DATA_DIR = Path("/tmp/bench-sales")
YEARS = 3
PIPELINES = (
    # name, open stages (name, win probability in %); then won and lost
    ("Sales", (("Lead", 10), ("Qualified", 25), ("Proposal", 50), ("Negotiation", 75))),
    (
        "Wholesale",
        (("Inquiry", 10), ("Offer", 30), ("Samples", 50), ("Contract", 70), ("Order", 90)),
    ),
    ("Tenders", (("Announced", 10), ("Bid", 40), ("Shortlist", 70))),
)
CURRENCIES = ("EUR",) * 8 + ("USD", "RUB")


def timed(fn, inputs, iterations: int, warm_up: int = 5) -> tuple[float, float]:
    """Median and 95th percentile in ms of ``fn`` over ``inputs`` (each used once; a
    callable ``inputs`` makes one per call), after ``warm_up`` calls."""
    for i in range(warm_up):
        fn(inputs(i) if callable(inputs) else inputs)
    times = []
    for i in range(iterations):
        value = inputs(warm_up + i) if callable(inputs) else inputs
        start = time.perf_counter()
        fn(value)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


# -- generation --------------------------------------------------------------------------


class Writer:
    """Rows into one table at speed: ``COPY`` on PostgreSQL, ``executemany`` on SQLite,
    datetimes and dates in the form Django stores them."""

    def __init__(self, connection):
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"

    def moment(self, seconds: float):
        at = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
        return at if self.postgres else at.replace(tzinfo=None).isoformat(" ")

    def day(self, seconds: float):
        found = datetime.datetime.fromtimestamp(seconds, datetime.UTC).date()
        return found if self.postgres else found.isoformat()

    def write(self, table: str, columns: tuple[str, ...], rows) -> None:
        names = ", ".join(columns)
        with self.connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
            for start in range(0, len(rows), 10_000):
                cursor.executemany(insert, rows[start : start + 10_000])


def make_pipelines():
    from kontor.core.access import SYSTEM
    from kontor.sales import setup
    from kontor.sales.models import Pipeline

    Pipeline.objects.all().delete()  # the default one the migration installed
    closing = [
        {"name": "Won", "kind": "won", "probability": 100},
        {"name": "Lost", "kind": "lost", "probability": 0},
    ]
    for name, stages in PIPELINES:
        open_stages = [
            {"name": stage, "kind": "open", "probability": p, "rotting_days": 30}
            for stage, p in stages
        ]
        setup.create_pipeline({"name": name, "stages": open_stages + closing}, actor=SYSTEM)


def make_clients(deals: int, placements) -> tuple[list[int], list[int]]:
    """A company per 50 deals, a person per 20 (at those companies), through the import."""
    from kontor.contacts import bulk
    from kontor.core.access import SYSTEM

    companies = bulk.import_companies(
        (
            {"name": f"Client {i} GmbH", "owner_id": o, "department_id": d}
            for i, (o, d) in zip(range(deals // 50), itertools.cycle(placements), strict=False)
        ),
        actor=SYSTEM,
    ).ids
    people = bulk.import_people(
        (
            {
                "first_name": f"Buyer{i}",
                "last_name": "Sales",
                "company_id": companies[i % len(companies)],
                "owner_id": o,
                "department_id": d,
            }
            for i, (o, d) in zip(range(deals // 20), itertools.cycle(placements), strict=False)
        ),
        actor=SYSTEM,
    ).ids
    return companies, people


DEAL_TYPE = "sales.deal"
# Each table's columns, in the order of the rows ``deal_histories`` makes for it.
TABLES = {
    "deals": (
        "sales_deal",
        "id title pipeline_id stage_id amount currency expected_close company_id person_id "
        "source lost_reason_id notes stage_entered_at closed_at owner_id department_id version "
        "created_at updated_at custom",
    ),
    "moves": (
        "sales_stagechange",
        "deal_id pipeline_id from_stage_id to_stage_id moved_at moved_by_id",
    ),
    "tasks": (
        "activities_task",
        "id title description status priority due_date repeat owner_id department_id "
        "created_by_id version created_at updated_at custom",
    ),
    "links": (
        "core_timelinelink",
        "entry_type entry_id subject_type subject_id direct occurred_at owner_id department_id",
    ),
    "documents": ("core_searchdocument", "id object_type object_id body"),
}


def deal_histories(rng: random.Random, count: int, context: dict, writer: Writer) -> dict:
    """Deals opened evenly over the last ``YEARS`` years (ids in order of opening), each
    with its moves: into the first open stage, on stage by stage, and for most of the
    older ones into won or lost; an open task on one open deal in three, on the deal's
    timeline; each deal's search document. The rows of each of ``TABLES``."""
    from kontor.core import search

    m, d = writer.moment, writer.day
    now = context["now"]
    pipelines, placements = context["pipelines"], context["placements"]
    companies, people = context["companies"], context["people"]
    rows = {name: [] for name in TABLES}
    span = YEARS * 365 * 86400
    start = now - span
    for pk in range(1, count + 1):
        created = start + span * (pk - 1) / count + rng.random() * 60
        age_days = (now - created) / 86400
        pipeline, open_stages, won, lost, lost_reason = pipelines[pk % len(pipelines)]
        owner_id, department_id = placements[rng.randrange(len(placements))]
        # The deeper a stage, the fewer deals reach it; old deals are mostly closed.
        depth = 0
        while depth + 1 < len(open_stages) and rng.random() < 0.55:
            depth += 1
        path = list(open_stages[: depth + 1])
        closes = rng.random() < (0.92 if age_days > 120 else age_days / 130)
        if closes:
            path.append(won if depth == len(open_stages) - 1 and rng.random() < 0.7 else lost)
        moments, at = [], created
        for _stage in path:
            moments.append(at)
            at = min(at + rng.uniform(0.5, max(1.0, min(age_days, 90) / len(path))) * 86400, now)
        final, entered = path[-1], m(moments[-1])
        title = f"Deal {pk} {('Beton', 'Holz', 'Dach', 'Glas', 'Stahl')[pk % 5]}"
        rows["deals"].append(
            (
                pk,
                title,
                pipeline,
                final.pk,
                f"{rng.randrange(10_000, 10_000_000) / 100:.2f}",
                CURRENCIES[rng.randrange(len(CURRENCIES))],
                d(created + rng.randrange(20, 150) * 86400),
                companies[rng.randrange(len(companies))] if rng.random() < 0.5 else None,
                people[rng.randrange(len(people))] if rng.random() < 0.4 else None,
                "",
                lost_reason if final.kind == "lost" else None,
                "",
                entered,
                entered if closes else None,
                owner_id,
                department_id,
                len(path),
                m(created),
                entered,
                "{}",
            )
        )
        rows["moves"].extend(
            (pk, pipeline, previous.pk if previous else None, stage.pk, m(moment), owner_id)
            for previous, stage, moment in zip([None, *path[:-1]], path, moments, strict=True)
        )
        rows["documents"].append(
            (search.document_id(DEAL_TYPE, pk), DEAL_TYPE, pk, search.normalize(title))
        )
        if not closes and rng.random() < 1 / 3:
            task = context["first_task"] + len(rows["tasks"])
            due = d(now + rng.randrange(-20, 40) * 86400)
            rows["tasks"].append(
                (task, f"Call about deal {pk}", "", "open", 2, due, "")
                + (owner_id, department_id, owner_id, 1, entered, entered, "{}")
            )
            rows["links"].append(
                ("activities.task", task, DEAL_TYPE, pk, True, entered, owner_id, department_id)
            )
    return rows


def generate(count: int, writer: Writer) -> None:
    import generate as people_bench
    from django.db import connection, transaction

    from kontor.sales.models import LostReason, Pipeline, Stage

    started = time.perf_counter()
    placements = people_bench.make_staff()
    make_pipelines()
    companies, people = make_clients(count, placements)
    print(
        f"  staff, pipelines, {len(companies):,} companies and {len(people):,} people: "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    reason = LostReason.objects.order_by("position").first().pk
    pipelines = []
    for pipeline in Pipeline.objects.all():
        stages = list(pipeline.stages.all())
        pipelines.append(
            (
                pipeline.pk,
                [s for s in stages if s.kind == Stage.Kind.OPEN],
                next(s for s in stages if s.kind == Stage.Kind.WON),
                next(s for s in stages if s.kind == Stage.Kind.LOST),
                reason,
            )
        )
    context = {
        "now": time.time(),
        "pipelines": pipelines,
        "placements": placements,
        "companies": companies,
        "people": people,
        "first_task": 1 + (_max_id(connection, "activities_task") or 0),
    }
    rows = deal_histories(random.Random(SEED), count, context, writer)
    moves, tasks = len(rows["moves"]), len(rows["tasks"])
    print(
        f"  {count:,} deals, {moves:,} moves ({moves / count:.2f} a deal), "
        f"{tasks:,} open tasks made: {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    with transaction.atomic():
        for name, (table, columns) in TABLES.items():
            writer.write(table, tuple(columns.split()), rows.pop(name))
    _reset_sequences()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  written and analysed: {time.perf_counter() - started:.0f} s", flush=True)


def _max_id(connection, table: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        return cursor.fetchone()[0]


def _reset_sequences() -> None:
    from django.core.management.color import no_style
    from django.db import connection

    from kontor.activities.models import Task
    from kontor.core.models import SearchDocument, TimelineLink
    from kontor.sales.models import Deal, StageChange

    models = [Deal, StageChange, Task, TimelineLink, SearchDocument]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


def _decimal(value) -> Decimal:
    """A sum as SQLite answers it (a float) read to 15 digits, as Django reads it."""
    return value if isinstance(value, Decimal) else _SQLITE_SUM.create_decimal_from_float(value)


_SQLITE_SUM = decimal.Context(prec=15)


# -- the bare SQL --------------------------------------------------------------------------


class Bare:
    """The same results read and written with hand-made SQL through the same connection,
    the reader's scope in every read as Kontor puts it."""

    def __init__(self, connection, user):
        from kontor.core.access import Scope, scope_for

        self.connection = connection
        self.user = user
        self.scopes = {}
        for table, object_type in (
            ("d", "sales.deal"),
            ("c", "contacts.company"),
            ("pe", "contacts.person"),
            ("t", "activities.task"),
        ):
            if scope_for(user, object_type, "view") == Scope.ALL:
                self.scopes[table] = ("1 = 1", [])
                continue
            assert scope_for(user, object_type, "view") == Scope.SUBTREE, object_type
            ids = user.department_subtree_ids()
            marks = ", ".join(["%s"] * len(ids))
            self.scopes[table] = (
                f"({table}.owner_id = %s OR {table}.department_id IN ({marks}))",
                [user.pk, *ids],
            )

    def rows(self, sql: str, params: list) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def board(self, pipeline, open_stages):
        """The columns' counts and sums per currency (weighted in Python as the board
        does), and each column's first page of cards with client, owner and next task."""
        scope, params = self.scopes["d"]
        heads = self.rows(
            f"""SELECT d.stage_id, d.currency, COUNT(*), SUM(d.amount) FROM sales_deal d
            WHERE d.pipeline_id = %s AND d.closed_at IS NULL AND {scope}
            GROUP BY d.stage_id, d.currency ORDER BY d.stage_id, d.currency""",
            [pipeline.pk, *params],
        )
        probability = {s.pk: s.probability for s in open_stages}
        totals = []
        for stage, currency, n, summed in heads:
            if stage in probability:
                amount = _decimal(summed)
                weighted = (amount * probability[stage] / 100).quantize(Decimal("0.01"))
                totals.append((stage, currency, n, amount, weighted))
        return totals, [self.cards(stage) for stage in open_stages]

    def cards(self, stage, size: int = 20):
        d_scope, d_params = self.scopes["d"]
        c_scope, c_params = self.scopes["c"]
        p_scope, p_params = self.scopes["pe"]
        deals = self.rows(
            f"""SELECT d.id, d.title, d.amount, d.currency, d.version, d.stage_id,
                d.stage_entered_at, d.owner_id, u.first_name, u.last_name, u.email,
                CASE WHEN {c_scope} THEN c.name END,
                CASE WHEN {p_scope} THEN pe.first_name || ' ' || pe.last_name END
            FROM sales_deal d
            LEFT JOIN accounts_user u ON u.id = d.owner_id
            LEFT JOIN contacts_company c ON c.id = d.company_id
            LEFT JOIN contacts_person pe ON pe.id = d.person_id
            WHERE d.stage_id = %s AND d.closed_at IS NULL AND {d_scope}
            ORDER BY d.stage_entered_at DESC, d.id DESC LIMIT {size + 1}""",
            [*c_params, *p_params, stage.pk, *d_params],
        )[:size]
        ids = [row[0] for row in deals]
        if not ids:
            return [], {}
        marks = ", ".join(["%s"] * len(ids))
        links = self.rows(
            f"""SELECT subject_id, entry_type, entry_id, occurred_at FROM core_timelinelink
            WHERE subject_type = 'sales.deal' AND subject_id IN ({marks})""",
            ids,
        )
        deal_of_task = {
            entry: deal for deal, kind, entry, _at in links if kind == "activities.task"
        }
        next_task = {}
        if deal_of_task:
            t_scope, t_params = self.scopes["t"]
            tasks = ", ".join(["%s"] * len(deal_of_task))
            for task_id, _title, _due in self.rows(
                f"""SELECT t.id, t.title, t.due_date FROM activities_task t
                WHERE t.id IN ({tasks}) AND t.status IN ('open', 'in_progress') AND {t_scope}
                ORDER BY t.due_date, t.due_time, t.id""",
                [*deal_of_task, *t_params],
            ):
                next_task.setdefault(deal_of_task[task_id], task_id)
        return ids, next_task

    def funnel(self, pipeline, open_stages, start, end) -> list[int]:
        """How many deals opened in [start, end) reached each open stage: each deal's
        furthest move (won past every stage, lost moves nowhere), counted per stage."""
        scope, params = self.scopes["d"]
        ops = self.connection.ops
        by_far = self.rows(
            f"""SELECT far, COUNT(*) FROM (
                SELECT MAX(CASE WHEN s.kind = 'won' THEN 1000000 ELSE s.position END) AS far
                FROM sales_deal d
                JOIN sales_stagechange sc ON sc.deal_id = d.id
                LEFT JOIN sales_stage s ON s.id = sc.to_stage_id AND s.kind <> 'lost'
                WHERE d.pipeline_id = %s AND d.created_at >= %s AND d.created_at < %s
                  AND {scope}
                GROUP BY d.id) AS furthest
            GROUP BY far""",
            [
                pipeline.pk,
                ops.adapt_datetimefield_value(start),
                ops.adapt_datetimefield_value(end),
                *params,
            ],
        )
        return [
            sum(n for far, n in by_far if far is not None and far >= stage.position)
            for stage in open_stages
        ]

    def deal_to_move(self, pk: int) -> tuple:
        """The deal as the board's move reads it before writing, in the mover's scope."""
        scope, params = self.scopes["d"]
        (found,) = self.rows(
            f"""SELECT d.id, d.version, d.stage_id, d.stage_entered_at, d.pipeline_id, d.title
            FROM sales_deal d WHERE d.id = %s AND {scope}""",
            [pk, *params],
        )
        return found

    def move(self, deal: tuple, to_stage) -> int:
        """In one transaction: the conditional update (the version the board showed), the
        move, its audit entry and its event."""
        from django.db import transaction

        pk, version, stage_id, entered, pipeline_id, title = deal
        ops = self.connection.ops
        with transaction.atomic():
            now = datetime.datetime.now(datetime.UTC)
            at = ops.adapt_datetimefield_value(now)
            with self.connection.cursor() as cursor:
                cursor.execute(
                    """UPDATE sales_deal SET stage_id = %s, stage_entered_at = %s,
                        version = version + 1, updated_at = %s WHERE id = %s AND version = %s""",
                    [to_stage.pk, at, at, pk, version],
                )
                assert cursor.rowcount == 1
                cursor.execute(
                    """INSERT INTO sales_stagechange
                    (deal_id, pipeline_id, from_stage_id, to_stage_id, moved_at, moved_by_id)
                    VALUES (%s, %s, %s, %s, %s, %s)""",
                    [pk, pipeline_id, stage_id, to_stage.pk, at, self.user.pk],
                )
                changes = {
                    "stage_id": [stage_id, to_stage.pk],
                    "stage_entered_at": [str(entered), now.isoformat()],
                }
                cursor.execute(
                    """INSERT INTO core_auditentry (at, actor_id, actor_label, channel,
                        request_id, action, object_type, object_id, object_repr, changes)
                    VALUES (%s, %s, %s, 'system', '', 'sales.deal.updated', 'sales.deal',
                        %s, %s, %s)""",
                    [at, self.user.pk, self.user.email, pk, title, json.dumps(changes)],
                )
                cursor.execute(
                    """INSERT INTO core_outboxevent (type, payload, occurred_at, fanned_out)
                    VALUES ('sales.deal.updated', %s, %s, %s)""",
                    [
                        json.dumps(
                            {
                                "object_type": "sales.deal",
                                "object_id": pk,
                                "actor_id": self.user.pk,
                                "changes": changes,
                            }
                        ),
                        at,
                        False,
                    ],
                )
        return version + 1


# -- the run -------------------------------------------------------------------------------


def open_database(args) -> str:
    url = args.database_url or os.environ.get("DATABASE_URL")
    if url:
        return url
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"deals-{args.deals}.sqlite3"
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: DATABASE_URL, else SQLite in /tmp")
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true", help="SQLite: make the file anew")
    parser.add_argument(
        "--iterations", type=int, default=100, help="board and move; funnel a fifth"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("KONTOR_VAR_DIR", str(DATA_DIR / "var"))
    _setup.configure(open_database(args))
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from kontor.accounts.models import User
    from kontor.contacts.models import Company
    from kontor.sales import board, reports, services
    from kontor.sales.models import Deal, Pipeline, Stage, StageChange
    from kontor.sales.types import DEAL

    call_command("migrate", interactive=False, verbosity=0)
    held = Deal.objects.count()
    made_here = User.objects.filter(email="head@bench.example").exists()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
    if held == 0 and not Company.objects.exists():
        started = time.perf_counter()
        generate(args.deals, Writer(connection))
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    elif held < args.deals or not made_here:
        print("The database holds other data; give an empty one.", file=sys.stderr)
        return 2
    else:
        print(f"reusing its {held:,} deals", flush=True)

    head = User.objects.get(email="head@bench.example")
    bare = Bare(connection, head)
    pipeline = Pipeline.objects.get(name=PIPELINES[0][0])
    open_stages = list(pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position", "id"))
    filters = board.BoardFilters()
    today = datetime.date.today()
    start, end = reports.month_start(today, -12), reports.month_start(today)

    def kontor_board(_unused=None):
        columns = board.columns(head, pipeline, filters)
        pages = [board.cards(head, column.stage, filters)[0] for column in columns]
        # What a card shows: its client, owner and next task.
        for page in pages:
            for card in page:
                deal = card.deal
                str(deal.visible_company or deal.visible_person or "")
                str(deal.owner or "")
                if card.next_task:
                    str(card.next_task.title)
        return columns, pages

    def kontor_funnel(_unused=None):
        return reports.funnel(head, pipeline, start, end)

    def bare_board(_unused=None):
        return bare.board(pipeline, open_stages)

    def bare_funnel(_unused=None):
        return bare.funnel(pipeline, open_stages, reports.moment(start), reports.moment(end))

    # Both sides must give the same result, or the comparison means nothing.
    columns, pages = kontor_board()
    totals, bare_pages = bare_board()
    assert [
        (t.currency, column.stage.pk, t.amount, t.weighted)
        for column in columns
        for t in column.totals
    ] == [(currency, stage, amount, weighted) for stage, currency, _n, amount, weighted in totals]
    assert [c.count for c in columns] == [
        sum(n for stage, _c, n, _a, _w in totals if stage == s.pk) for s in open_stages
    ]
    for page, (ids, next_task) in zip(pages, bare_pages, strict=True):
        assert [card.deal.pk for card in page] == ids
        assert {card.deal.pk: card.next_task.pk for card in page if card.next_task} == next_task
    steps = kontor_funnel()
    assert [step.reached for step in steps] == bare_funnel(), (steps, bare_funnel())
    cards = sum(len(page) for page in pages)
    tasks = sum(len(next_task) for _ids, next_task in bare_pages)
    print(
        f"board: {sum(c.count for c in columns):,} open deals in {len(columns)} columns, "
        f"{cards} cards, {tasks} next tasks; funnel of {steps[0].reached:,} deals: "
        f"{[s.reached for s in steps]}",
        flush=True,
    )

    # Deals to move: open ones of the head's scope not in the last open stage, a new one
    # each time; Kontor and the bare SQL each move their own.
    movable = list(
        DEAL.visible(head)
        .filter(pipeline=pipeline, closed_at__isnull=True, stage__in=open_stages[:-1])
        .order_by("?" if connection.vendor == "postgresql" else "id")
        .values_list("pk", "stage_id")[: 20 * args.iterations]
    )
    random.Random(SEED).shuffle(movable)
    next_stage = {a.pk: b for a, b in zip(open_stages, open_stages[1:], strict=False)}
    half = len(movable) // 2
    assert half >= args.iterations + 10, "too few open deals to move"

    def kontor_deal(i):
        pk, stage_id = movable[i]
        return DEAL.one(head, pk), next_stage[stage_id].pk

    def kontor_move(found):
        deal, to_stage = found
        services.move_deal(deal, to_stage, actor=head, expected_version=deal.version)

    def bare_deal(i):
        pk, stage_id = movable[half + i]
        return bare.deal_to_move(pk), next_stage[stage_id]

    def bare_move(found):
        bare.move(*found)

    moved = movable[0]
    kontor_move(kontor_deal(0))
    change = StageChange.objects.filter(deal_id=moved[0]).latest("moved_at", "id")
    assert (change.from_stage_id, change.to_stage_id) == (moved[1], next_stage[moved[1]].pk)
    bare_move(bare_deal(0))

    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(head)
    board_url = f"{reverse('sales:board')}?pipeline={pipeline.pk}"
    cards_urls = [reverse("sales:board_cards", args=[s.pk]) for s in open_stages]

    def whole_board(_unused=None):
        assert browser.get(board_url).status_code == 200
        for url in cards_urls:
            assert browser.get(url).status_code == 200

    n = args.iterations
    results = {
        "board data (columns, first page of each)": timed(kontor_board, None, n),
        "board data, bare SQL": timed(bare_board, None, n),
        "board page and its columns' cards (test client)": timed(whole_board, None, n // 2),
        "funnel, 12 months (reports.funnel)": timed(kontor_funnel, None, max(5, n // 5), 2),
        "funnel, bare SQL": timed(bare_funnel, None, max(5, n // 5), 2),
        "stage move (services.move_deal)": timed(kontor_move, lambda i: kontor_deal(i + 1), n),
        "stage move, bare SQL": timed(bare_move, lambda i: bare_deal(i + 1), n),
    }
    print(
        f"\n{connection.vendor}, {Deal.objects.count():,} deals, "
        f"{StageChange.objects.count():,} stage changes\n"
    )
    print("| operation | median | p95 |")
    print("| --- | --- | --- |")
    for name, (median, p95) in results.items():
        print(f"| {name} | {median:.2f} ms | {p95:.2f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
