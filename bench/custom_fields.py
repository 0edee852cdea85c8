"""Custom fields at scale: a filtered, sorted first page, and the cost of a save.

    .venv/bin/python bench/custom_fields.py            # bench/out/kontor-1m.sqlite3
    .venv/bin/python bench/custom_fields.py --database-url postgres://bench@127.0.0.1:55432/bench

Make the database first with bench/generate.py. The first run defines ten custom fields
on people through the definition service and gives every person a value in each (one
UPDATE per row, not the person service: reads are what this part measures); later runs
reuse them. Then, for the admin and a sales team member:

- page 1 (50 rows) of people filtered on one custom field (segment = an option) and
  sorted by another (score), through ``Person.objects.visible_to`` as a list reads it
  (``sorted_page``), beside the same page in hand-written SQL (scope included) in the
  same run, the faster of its two plans (scope by its indexes, or kept out of index
  choice so that the sort's index is walked);
- the same for a member of a tiny department ("Bench Tiny": 500 people moved there on
  the first run), whose page must not walk the sort's index;
- a person saved through ``contacts.services.update_person`` with new values in all
  ten fields, beside the same save changing only the position, and creating a person
  with ten values beside one without.

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402
from run import p95, timed  # noqa: E402

SEED = 11
SEGMENTS = [
    {"key": k, "label": k.title()} for k in ("bronze", "silver", "gold", "platinum", "lead")
]
LABELS = [{"key": k, "label": k.title()} for k in ("newsletter", "event", "partner", "press")]
SAVER = {"first_name": "Bench", "last_name": "Saver"}
FIELDS = [
    ("segment", "choice", {"choices": SEGMENTS}),
    ("score", "integer", {}),
    ("revenue", "money", {"currency": "EUR"}),
    ("rating", "decimal", {}),
    ("since", "date", {}),
    ("last_contact", "datetime", {}),
    ("vip", "boolean", {}),
    ("region", "text", {}),
    ("code", "text", {}),
    ("labels", "multiple_choice", {"choices": LABELS}),
]


def typed_values(rng: random.Random, i: int) -> dict:
    """Ten values as a user or API client would send them."""
    day = datetime.date(2015, 1, 1) + datetime.timedelta(days=rng.randrange(4000))
    return {
        "segment": SEGMENTS[rng.randrange(len(SEGMENTS))]["key"],
        "score": rng.randrange(100_000),
        "revenue": f"{rng.randrange(10_000_000) / 100:.2f}",
        "rating": f"{rng.randrange(1000) / 10:.1f}",
        "since": day.isoformat(),
        "last_contact": f"{day.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
        "vip": rng.random() < 0.1,
        "region": f"Region {rng.randrange(80)}",
        "code": f"C-{i:07d}",
        "labels": [o["key"] for o in LABELS if rng.random() < 0.3],
    }


def stored(fields: dict, typed: dict) -> dict:
    """The typed values in stored form, as the kinds clean them."""
    from kontor.core.customfields import kinds

    return {
        str(fields[name].pk): kinds.convert(fields[name], value)
        for name, value in typed.items()
        if value not in ([], None)
    }


def define_fields():
    """The ten fields, made through the service on the first run; with the fill's time."""
    from django.db import connection, transaction

    from kontor.contacts.models import Person
    from kontor.core import customfields
    from kontor.core.access import SYSTEM
    from kontor.core.customfields import indexes, registry
    from kontor.core.customfields import services as field_services
    from kontor.core.models import CustomField

    existing = {f.name: f for f in CustomField.objects.filter(object_type="contacts.person")}
    # Reused only if complete: every field there and every generated person filled
    # (the people the save timings add have no values on purpose).
    if len(existing) == len(FIELDS):
        unfilled = Person.objects.exclude(last_name=SAVER["last_name"]).filter(
            customfields.filter_q(existing["segment"], "empty")
        )
        if not unfilled.exists():
            return existing
    CustomField.objects.filter(object_type="contacts.person").delete()
    registry.bump()
    fields = {}
    for name, kind, options in FIELDS:
        fields[name] = field_services.create_field(
            actor=SYSTEM,
            object_type="contacts.person",
            name=name,
            label=name.replace("_", " ").title(),
            kind=kind,
            **options,
        )
    # Filled without the indexes, which are built once afterwards (as a restore would).
    table = Person._meta.db_table
    with connection.cursor() as cursor:
        for field in fields.values():
            cursor.execute(indexes.drop_sql(indexes.index_name(table, field.pk)))
    rng = random.Random(SEED)
    started = time.perf_counter()
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    encode = Person._meta.get_field("custom").get_db_prep_save
    for start in range(0, len(ids), 20_000):
        chunk = ids[start : start + 20_000]
        rows = [(encode(stored(fields, typed_values(rng, pk)), connection), pk) for pk in chunk]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET custom = %s WHERE id = %s", rows)
        print(f"  values: {start + len(chunk):,}/{len(ids):,}", flush=True)
    filled = time.perf_counter()
    indexes.sync(["contacts.person"])
    print(
        f"values {filled - started:.1f} s, indexes and statistics "
        f"{time.perf_counter() - filled:.1f} s",
        flush=True,
    )
    return fields


TINY_PEOPLE = 500


def tiny_member():
    """A member of a department holding TINY_PEOPLE people (made on the first run)."""
    from django.db import connection

    from kontor.accounts import services as accounts
    from kontor.accounts.models import Department, User
    from kontor.contacts.models import Person
    from kontor.core.access import SYSTEM

    found = User.objects.filter(email="tiny@bench.example").first()
    if found is not None:
        return found
    root = Department.objects.get(name="Bench Co")
    tiny = accounts.create_department(name="Bench Tiny", parent=root, actor=SYSTEM)
    member = accounts.create_user(
        email="tiny@bench.example",
        password=None,
        department=tiny,
        roles=[accounts.role_named("member")],
        actor=SYSTEM,
    )
    step = Person.objects.count() // TINY_PEOPLE
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Person._meta.db_table} SET department_id = %s WHERE id %% %s = 0",
            [tiny.pk, step],
        )
        cursor.execute(f"ANALYZE {Person._meta.db_table}")
    return member


class RawSQL:
    """The same page by hand: the expressions written out, the scope in the WHERE clause."""

    def __init__(self, connection, user, fields):
        from kontor.core.access import Scope, scope_for

        self.connection = connection
        self.segment, self.score = fields["segment"].pk, fields["score"].pk
        self.scope_sql, self.scope_params = "", []
        if scope_for(user, "contacts.person", "view") != Scope.ALL:
            # A member's view scope: their department (and what they own).
            self.scope_sql = " AND (p.owner_id = %s OR p.department_id = %s)"
            self.scope_params = [user.pk, user.department_id]

    def page(self, segment: str, unindexed_scope: bool = False):
        scope_sql = self.scope_sql.replace("p.", "+p.") if unindexed_scope else self.scope_sql
        if self.connection.vendor == "sqlite":
            where = f"ifnull(json_extract(p.custom, '$.\"{self.segment}\"'), x'') = %s"
            order = f"ifnull(json_extract(p.custom, '$.\"{self.score}\"'), x'')"
        else:
            where = f"(p.custom ->> '{self.segment}') = %s"
            order = f"((p.custom ->> '{self.score}'))::numeric"
        sql = (
            "SELECT p.id, p.first_name, p.last_name, p.custom FROM contacts_person p "
            f"WHERE {where}{scope_sql} ORDER BY {order}, p.id LIMIT 50"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [segment, *self.scope_params])
            return [
                (pk, first, last, json.loads(custom, parse_float=decimal.Decimal))
                if isinstance(custom, str)
                else (pk, first, last, custom)
                for pk, first, last, custom in cursor.fetchall()
            ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: sqlite:///bench/out/kontor-1m.sqlite3")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--saves", type=int, default=100)
    parser.add_argument("--member-iterations", type=int, default=50)
    args = parser.parse_args(argv)
    _setup.configure(args.database_url)
    from django.core.management import call_command
    from django.db import connection

    from kontor.accounts.models import User
    from kontor.contacts import services
    from kontor.contacts.models import Person
    from kontor.core import customfields

    call_command("migrate", interactive=False, verbosity=0)
    fields = define_fields()
    tiny_member()
    people_count = Person.objects.count()
    segments = [o["key"] for o in SEGMENTS]
    results = []

    def report(user_label, name, kontor_times, raw_times, raw_label):
        results.append(
            {
                "user": user_label,
                "operation": name,
                "kontor_median_ms": statistics.median(kontor_times),
                "kontor_p95_ms": p95(kontor_times),
                "raw_label": raw_label,
                "raw_median_ms": statistics.median(raw_times),
                "raw_p95_ms": p95(raw_times),
            }
        )
        r = results[-1]
        print(
            f"{user_label:7s} {name:36s} {r['kontor_median_ms']:8.2f} ms (p95 "
            f"{r['kontor_p95_ms']:8.2f})  {raw_label} {r['raw_median_ms']:8.2f} ms (p95 "
            f"{r['raw_p95_ms']:8.2f})  x{r['kontor_median_ms'] / r['raw_median_ms']:.2f}",
            flush=True,
        )

    for email in ("admin@bench.example", "sales1.1@bench.example", "tiny@bench.example"):
        user = User.objects.get(email=email)
        raw = RawSQL(connection, user, fields)
        label = email.split("@")[0]
        iterations = args.member_iterations if raw.scope_sql else args.iterations

        def kontor_page(segment, user=user):
            """Page 1 filtered on one custom field and sorted by another, as a list reads
            it (a sorted page: the scope rule of core.access applies)."""
            visible = customfields.visible_fields(user, "contacts.person")
            people = Person.objects.visible_to(user, sorted_page=True)
            page = (
                people.filter(customfields.filter_q(fields["segment"], "eq", segment))
                .order_by(*customfields.order_by(fields["score"]))
                .only("id", "first_name", "last_name", "custom")[:50]
            )
            return [
                (p.pk, p.first_name, p.last_name, customfields.values_for(user, p, visible))
                for p in page
            ]

        def raw_walk(segment, raw=raw):
            return raw.page(segment, unindexed_scope=True)

        for segment in segments:
            mine = [row[0] for row in kontor_page(segment)]
            assert mine == [row[0] for row in raw.page(segment)], segment
            assert mine == [row[0] for row in raw_walk(segment)], segment
        kontor_times = timed(kontor_page, segments, iterations)
        raw_label, raw_times = "raw SQL", timed(raw.page, segments, iterations)
        if raw.scope_sql:
            walk_times = timed(raw_walk, segments, iterations)
            print(
                f"    raw SQL: scope by its indexes {statistics.median(raw_times):.2f} ms, "
                f"kept out of index choice {statistics.median(walk_times):.2f} ms",
                flush=True,
            )
            if statistics.median(walk_times) < statistics.median(raw_times):
                raw_label, raw_times = "raw SQL (+scope)", walk_times
        report(label, "page 1: segment = x, by score", kontor_times, raw_times, raw_label)
        plan = (
            Person.objects.visible_to(user, sorted_page=True)
            .filter(customfields.filter_q(fields["segment"], "eq", "gold"))
            .order_by(*customfields.order_by(fields["score"]))[:50]
            .explain()
        )
        print("    plan:", plan.replace("\n", "; "), flush=True)

    # Saves, by a sales member on records they own (their own scope, as in daily use).
    member = User.objects.get(email="sales1.1@bench.example")
    rng = random.Random(SEED + 1)
    base = {**SAVER, "department_id": member.department_id}
    with_values = [typed_values(rng, 9_000_000 + i) for i in range(args.saves * 2)]
    for v in with_values:
        v["code"] = None  # unique per run: left empty so reruns never clash
    made = [services.create_person(dict(base), actor=member) for _ in range(args.saves)]
    counter = iter(range(10**9))

    def update_plain(person):
        return services.update_person(person, {"position": f"P{next(counter)}"}, actor=member)

    def update_custom(person):
        values = with_values[next(counter) % len(with_values)]
        return services.update_person(
            person, {"position": f"P{next(counter)}", "custom": values}, actor=member
        )

    def create_plain(_):
        return services.create_person(dict(base), actor=member)

    def create_custom(i):
        return services.create_person({**base, "custom": with_values[i]}, actor=member)

    for _ in range(2):  # interleaved rounds: neither side gets the warmer cache
        report(
            "member",
            "update person: +10 custom values",
            timed(update_custom, made, args.saves),
            timed(update_plain, made, args.saves),
            "without",
        )
        report(
            "member",
            "create person: +10 custom values",
            timed(create_custom, list(range(args.saves)), args.saves),
            timed(create_plain, list(range(args.saves)), args.saves),
            "without",
        )

    print(f"\n{connection.vendor}, {people_count:,} people, {len(fields)} custom fields each\n")
    print("| user | operation | Kontor median (p95) | baseline median (p95) | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['user']} | {r['operation']} | {r['kontor_median_ms']:.2f} ms "
            f"({r['kontor_p95_ms']:.2f}) | {r['raw_label']} {r['raw_median_ms']:.2f} ms "
            f"({r['raw_p95_ms']:.2f}) | {r['kontor_median_ms'] / r['raw_median_ms']:.2f}× |"
        )
    out = _setup.OUT_DIR / f"custom-fields-{connection.vendor}.json"
    out.write_text(json.dumps({"people": people_count, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
