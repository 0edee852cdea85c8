"""Formula fields: what five of them add to saving a record.

    .venv/bin/python bench/formula_fields.py [--saves 300] [--rounds 6]
    .venv/bin/python bench/formula_fields.py --database-url postgres://bench@127.0.0.1:55432/bench

A database of its own (bench/out/formula-fields.sqlite3 by default, made on the first
run): a company, a person employed there, and five plain custom fields of people
(quantity, price, discount, since, vip). Each round times ``--saves`` saves of the
person through ``contacts.services.update_person`` (the single-record service path:
cleaning, the optimistic lock, audit row, search document, event) changing its quantity
and price, first with no formula field, then with five defined through the definition
service (money arithmetic, a condition, a linked company's name, a date reading
today(), a text), which are removed again for the next round. Rounds alternate, so
that the shared machine's load weighs on both sides alike; the figures are the medians
of all saves of each side, and their ratio, in wall time and in this process's CPU time
(what the save itself costs, without the waits for the disk and for other processes).
Then, with ``--recompute`` more people (imported once, through ``core.bulk``), the
background recomputation of a type (``computed.recompute_type``: what a changed formula
and the nightly refresh cost): a pass where nothing changes, and one after a formula
changed, where every record is written. Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

PEOPLE = "contacts.person"
PLAIN = [
    ("quantity", "integer", {}),
    ("price", "money", {"currency": "EUR"}),
    ("discount", "decimal", {}),
    ("since", "date", {}),
    ("vip", "boolean", {}),
]
FORMULAS = [
    ("net", "round(price * quantity * (100 - coalesce(discount, 0)) / 100, 2)", "EUR"),
    ("band", 'if(vip and quantity > 10, "Key account", "Standard")', ""),
    ("employer", 'coalesce(company.name, "—") & " / " & upper(last_name)', ""),
    ("days_since", "days_between(since, today())", ""),
    ("renewal", "add_months(since, 12)", ""),
]


def setup():
    from django.core.management import call_command

    from kontor.accounts import services as accounts
    from kontor.accounts.models import Role, User
    from kontor.contacts import services as contacts
    from kontor.contacts.models import Person
    from kontor.core.access import SYSTEM
    from kontor.core.customfields import fields_of
    from kontor.core.customfields import services as field_services

    call_command("migrate", interactive=False, verbosity=0)
    admin = User.objects.filter(email="admin@formulas.example").first()
    if admin is None:
        admin = accounts.create_user(
            email="admin@formulas.example",
            password="Bench-pass-12345",
            roles=[Role.objects.get(name="admin")],
            actor=SYSTEM,
        )
    names = {f.name for f in fields_of(PEOPLE)}
    for name, kind, options in PLAIN:
        if name not in names:
            field_services.create_field(
                actor=admin, object_type=PEOPLE, name=name, label=name, kind=kind, **options
            )
    person = Person.objects.filter(last_name="Formula").first()
    if person is None:
        company = contacts.create_company({"name": "Acme"}, actor=admin)
        person = contacts.create_person(
            {
                "first_name": "Bench",
                "last_name": "Formula",
                "company_id": company.pk,
                "custom": {"quantity": 1, "price": "19.99", "discount": "12.5", "vip": True}
                | {"since": "2025-01-31"},
            },
            actor=admin,
        )
    return admin, person.pk


def set_formulas(admin, present: bool) -> None:
    from kontor.core.customfields import fields_of
    from kontor.core.customfields import services as field_services

    for field in fields_of(PEOPLE):
        if field.kind == "formula":
            field_services.delete_field(field, actor=admin)
    if present:
        for name, source, currency in FORMULAS:
            field_services.create_field(
                actor=admin,
                object_type=PEOPLE,
                name=name,
                label=name,
                kind="formula",
                formula=source,
                currency=currency,
            )


def time_saves(admin, pk: int, saves: int, counter) -> list[tuple[float, float]]:
    """(wall, this process's CPU) milliseconds of each save."""
    from kontor.contacts import services as contacts
    from kontor.contacts.models import Person

    times = []
    for _ in range(saves):
        n = next(counter)
        person = Person.objects.get(pk=pk)
        data = {"custom": {"quantity": n % 40, "price": f"{10 + n % 7}.99"}}
        started, cpu = time.perf_counter(), time.process_time()
        contacts.update_person(person, data, actor=admin)
        times.append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000))
    return times


def time_recompute(admin, count: int) -> list[tuple[str, float]]:
    """Seconds per 1,000 records of two passes over ``count`` + 1 people."""
    from kontor.contacts.models import Person
    from kontor.core import bulk, types
    from kontor.core.customfields import computed, fields_of
    from kontor.core.customfields import services as field_services

    missing = count - Person.objects.filter(last_name="Recomputed").count()
    if missing > 0:
        rows = [
            {"first_name": f"R{i}", "last_name": "Recomputed", "custom": {"quantity": i % 50}}
            for i in range(missing)
        ]
        bulk.import_rows(types.get(PEOPLE), rows, actor=admin)
    set_formulas(admin, present=True)
    records = Person.objects.count()
    computed.recompute_type(PEOPLE)  # the new fields' first computation
    figures = []
    started = time.perf_counter()
    computed.recompute_type(PEOPLE)
    figures.append(("nothing changed", time.perf_counter() - started))
    band = next(f for f in fields_of(PEOPLE) if f.name == "band")
    field_services.update_field(band, actor=admin, formula='if(quantity > 10, "Big", "Small")')
    started = time.perf_counter()
    written = computed.recompute_type(PEOPLE)
    figures.append(
        (f"a formula changed ({written} records written)", time.perf_counter() - started)
    )
    set_formulas(admin, present=False)
    return [(label, seconds * 1000 / records) for label, seconds in figures], records


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--recompute", type=int, default=20_000)
    args = parser.parse_args(argv)
    _setup.configure(args.database_url or f"sqlite:///{_setup.OUT_DIR / 'formula-fields.sqlite3'}")
    from django.db import connection

    from kontor.contacts.models import Person

    admin, pk = setup()
    counter = itertools.count()
    plain, formulas = [], []
    for _round in range(args.rounds):
        set_formulas(admin, present=False)
        time_saves(admin, pk, 20, counter)  # warm: the definitions and pages read again
        plain += time_saves(admin, pk, args.saves, counter)
        set_formulas(admin, present=True)
        time_saves(admin, pk, 20, counter)
        formulas += time_saves(admin, pk, args.saves, counter)
    custom = Person.objects.get(pk=pk).custom
    set_formulas(admin, present=False)
    print(f"{connection.vendor}, {args.rounds} rounds of {args.saves} saves each side")
    print(f"last results: {custom}")
    print()
    print("| saving a person (update_person) | median | p90 | CPU median |")
    print("| --- | --- | --- | --- |")
    medians = {}
    for label, times in (("no formula field", plain), ("5 formula fields", formulas)):
        wall, cpu = [t[0] for t in times], [t[1] for t in times]
        medians[label] = (statistics.median(wall), statistics.median(cpu))
        p90 = statistics.quantiles(wall, n=10)[-1]
        print(
            f"| {label} | {medians[label][0]:.2f} ms | {p90:.2f} ms | {medians[label][1]:.2f} ms |"
        )
    (wall_0, cpu_0), (wall_5, cpu_5) = medians.values()
    print(f"| ratio | {wall_5 / wall_0:.2f}× | | {cpu_5 / cpu_0:.2f}× |")
    if args.recompute:
        figures, records = time_recompute(admin, args.recompute)
        print()
        print(f"| recomputing {records:,} people, 5 formula fields | per 1,000 records |")
        print("| --- | --- |")
        for label, seconds in figures:
            print(f"| {label} | {seconds:.2f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
