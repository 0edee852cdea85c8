"""Make the benchmark database: 1,000,000 people across 100,000 companies.

    .venv/bin/python bench/generate.py                   # bench/out/kontor-1m.sqlite3
    .venv/bin/python bench/generate.py --people 100000 --companies 10000 \
        --database-url postgres://bench@127.0.0.1:55432/bench

The data goes through the bulk import service (kontor.core.bulk), the same path as
the spreadsheet importer and the demo: validation, E.164 phones, search documents and
one audit entry per record included. The printed import time is the number compared
with the 3-minute goal in docs/benchmarks.md.

Staff: "Bench Co" > "Bench Sales" (head@bench.example, role head) > eight teams of ten
members, and "Bench Support" with ten members; admin@bench.example holds role admin.
Nine records in ten belong to sales, so the head's scope covers most rows.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

SALES_TEAMS = 8
MEMBERS_PER_TEAM = 10
SEED = 1998


def phone_forms(n: int) -> tuple[str, str]:
    """The ``n``-th Russian mobile number, typed in one of the ways people type them."""
    digits = f"9{n:09d}"
    a, b, c, d = digits[:3], digits[3:6], digits[6:8], digits[8:]
    forms = (
        f"+7 {a} {b}-{c}-{d}",
        f"8 ({a}) {b}-{c}-{d}",
        f"8{digits}",
        f"+7{digits}",
        f"{a} {b} {c} {d}",
    )
    return forms[n % len(forms)], f"+7{digits}"


class Pools:
    """Names drawn once from Faker; rows combine them at random (Faker per row is slow)."""

    def __init__(self, rng: random.Random):
        from faker import Faker

        fake = Faker(["en_US", "ru_RU", "de_DE"])
        fake.seed_instance(SEED)
        self.rng = rng
        self.first_names = sorted({fake.first_name() for _ in range(3000)})
        self.last_names = sorted({fake.last_name() for _ in range(6000)})
        self.positions = sorted({fake.job()[:150] for _ in range(400)})
        self.cities = sorted({fake.city() for _ in range(500)})
        self.streets = sorted({fake.street_name() for _ in range(1000)})
        self.words = sorted({fake.last_name() for _ in range(3000)})

    def pick(self, items):
        return items[self.rng.randrange(len(items))]


INDUSTRIES = ["construction", "retail", "development", "roofing", "plumbing", "interior"]
COMPANY_KINDS = ["Stroy", "Build", "Bau", "Dom", "Beton", "Holz", "Krovlya", "Plitka"]
SOURCES = ["website", "fair", "referral", "cold call", "import"]


def company_rows(indexes: range, pools: Pools, placements: list[tuple[int, int]]):
    rng = pools.rng
    for i in indexes:
        word = pools.pick(pools.words)
        name = f"{word} {pools.pick(COMPANY_KINDS)} {i}"
        owner_id, department_id = placements[i % len(placements)]
        number, _e164 = phone_forms(500_000_000 + i)
        yield {
            "name": name,
            "legal_name": f"{name} LLC",
            "tax_id": f"{7700000000 + i}",
            "industry": pools.pick(INDUSTRIES),
            "website": f"https://www.company{i}.example",
            "phones": [{"kind": "work", "number": number}],
            "emails": [{"kind": "work", "address": f"info{i}@company{i}.example"}],
            "addresses": [
                {
                    "kind": "office",
                    "street": f"{pools.pick(pools.streets)} {rng.randint(1, 200)}",
                    "city": pools.pick(pools.cities),
                    "country": "RU",
                }
            ],
            "owner_id": owner_id,
            "department_id": department_id,
        }


def person_rows(indexes: range, pools: Pools, companies: list[tuple[int, int, int]]):
    """People spread over ``companies`` ((id, owner_id, department_id)), ten per company."""
    rng = pools.rng
    base_day = datetime.date(1950, 1, 1).toordinal()
    for i in indexes:
        company_id, owner_id, department_id = companies[i % len(companies)]
        number, _e164 = phone_forms(i)
        row = {
            "first_name": pools.pick(pools.first_names),
            "last_name": pools.pick(pools.last_names),
            "position": pools.pick(pools.positions),
            "company_id": company_id,
            "birthday": datetime.date.fromordinal(base_day + rng.randrange(18_000)),
            "source": pools.pick(SOURCES),
            "phones": [{"kind": "mobile", "number": number}],
            "emails": [{"kind": "work", "address": f"person{i}@mail{i % 997}.example"}],
            "owner_id": owner_id,
            "department_id": department_id,
        }
        if i % 3 == 0:
            row["phones"].append({"kind": "work", "number": phone_forms(200_000_000 + i)[0]})
        if i % 10 == 0:
            row["family"] = [
                {
                    "relation": "spouse",
                    "name": pools.pick(pools.first_names),
                    "birthday": datetime.date.fromordinal(base_day + rng.randrange(18_000)),
                }
            ]
        if i % 20 == 0:
            row["tags"] = ["VIP"]
        yield row


def make_staff():
    """Departments and users; returns [(owner_id, department_id)] weighted 9:1 sales:support."""
    from kontor.accounts import services as accounts
    from kontor.core.access import SYSTEM

    def user(email, department, role):
        return accounts.create_user(
            email=email,
            password=None,
            department=department,
            roles=[accounts.role_named(role)],
            actor=SYSTEM,
        )

    root = accounts.create_department(name="Bench Co", actor=SYSTEM)
    sales = accounts.create_department(name="Bench Sales", parent=root, actor=SYSTEM)
    support = accounts.create_department(name="Bench Support", parent=root, actor=SYSTEM)
    user("admin@bench.example", root, "admin")
    user("head@bench.example", sales, "head")
    sales_slots, support_slots = [], []
    for t in range(1, SALES_TEAMS + 1):
        team = accounts.create_department(name=f"Bench Sales Team {t}", parent=sales, actor=SYSTEM)
        for m in range(1, MEMBERS_PER_TEAM + 1):
            sales_slots.append((user(f"sales{t}.{m}@bench.example", team, "member").pk, team.pk))
    for m in range(1, MEMBERS_PER_TEAM + 1):
        support_slots.append((user(f"support{m}@bench.example", support, "member").pk, support.pk))
    # Nine sales placements for each support one, interleaved.
    return [
        sales_slots[i % len(sales_slots)] if i % 10 else support_slots[i // 10 % 10]
        for i in range(len(sales_slots) * 10)
    ]


def _slices(count: int, workers: int) -> list[range]:
    step = -(-count // workers)
    return [range(start, min(start + step, count)) for start in range(0, count, step)]


def _import_slice(kind: str, indexes: range, batch_size: int, context: dict):
    """One worker: import its slice of rows through the bulk service; returns the result."""
    from kontor.contacts import bulk
    from kontor.core.access import SYSTEM

    pools = context["pools"]
    pools.rng = random.Random(SEED + indexes.start)
    total = len(indexes)
    last = [time.perf_counter()]

    def progress(done):
        now = time.perf_counter()
        if done == total or now - last[0] > 15:
            last[0] = now
            elapsed = now - context["started"]
            print(f"  {kind} {indexes.start:,}+: {done:,}/{total:,} ({elapsed:.0f} s)", flush=True)

    if kind == "companies":
        rows = company_rows(indexes, pools, context["placements"])
        return bulk.import_companies(rows, actor=SYSTEM, batch_size=batch_size, progress=progress)
    rows = person_rows(indexes, pools, context["companies"])
    return bulk.import_people(rows, actor=SYSTEM, batch_size=batch_size, progress=progress)


def _run(kind: str, count: int, workers: int, batch_size: int, context: dict):
    """Import ``count`` rows in ``workers`` processes (forked, so they share the pools)."""
    from django.db import connections

    slices = _slices(count, workers)
    if workers == 1:
        return [_import_slice(kind, slices[0], batch_size, context)]
    # A forked child must not reuse the parent's database connection.
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.starmap(_import_slice, [(kind, s, batch_size, context) for s in slices])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument(
        "--batch-size", type=int, help="rows per transaction (default: the import's own)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="import processes (default: one per CPU); on SQLite they take turns to write",
    )
    parser.add_argument("--database-url", help="default: sqlite:///bench/out/kontor-1m.sqlite3")
    args = parser.parse_args(argv)

    if not args.database_url:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{_setup.DEFAULT_DB}{suffix}").unlink(missing_ok=True)
    _setup.configure(args.database_url)
    from django.core.management import call_command
    from django.db import connection

    from kontor.contacts.models import Company
    from kontor.core import bulk

    args.batch_size = args.batch_size or bulk.DEFAULT_BATCH_SIZE
    call_command("migrate", interactive=False, verbosity=0)
    if Company.objects.exists():
        print("The database already holds companies; give a fresh one.", file=sys.stderr)
        return 2
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
        f"{args.workers} workers, batches of {args.batch_size:,}",
        flush=True,
    )
    started = time.perf_counter()
    context = {"pools": Pools(random.Random(SEED)), "placements": make_staff()}
    prepared = context["started"] = time.perf_counter()
    print(f"staff and name pools: {prepared - started:.1f} s", flush=True)

    results = _run("companies", args.companies, args.workers, args.batch_size, context)
    placements = context["placements"]
    context["companies"] = [
        (pk, *placements[i % len(placements)])
        for i, pk in enumerate(pk for result in results for pk in result.ids)
    ]
    after_companies = time.perf_counter()
    results += _run("people", args.people, args.workers, args.batch_size, context)
    finished = time.perf_counter()
    errors = [error for result in results for error in result.errors]
    created = sum(result.created for result in results)
    print(
        f"imported {created:,} records: companies {after_companies - prepared:.1f} s, "
        f"people {finished - after_companies:.1f} s; import total {finished - prepared:.1f} s; "
        f"{len(errors)} row errors",
        flush=True,
    )
    for error in errors[:10]:
        print(f"  row {error.row} {error.field}: {error.message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
