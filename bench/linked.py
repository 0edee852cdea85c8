"""Time the people list's reads that touch the employer, for the admin, a head and a member.

    .venv/bin/python bench/linked.py --database-url sqlite:///bench/out/kontor-100k.sqlite3

A person matches a company's name, and sorts by it, only through a company the reader
can see (docs/architecture.md, "Search"). This times page 1 of: a search by a person's
name, a search by a company's name, and the list sorted by company both ways (page 1,
and the last page before the count's cap, rows 9,951-10,000). The member (role
member, one sales team) sees about one record in ninety. bench/generate.py gives each
person their company's owner and department, so every employer of a person a reader
sees is visible to that reader: no hidden employer is in anyone's scope here.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

SEED = 11
USERS = ("admin@bench.example", "head@bench.example", "sales1.1@bench.example")


def median_ms(fn, inputs, iterations: int) -> tuple[float, float]:
    for value in inputs:
        fn(value)
    times = []
    for i in range(iterations):
        start = time.perf_counter()
        fn(inputs[i % len(inputs)])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: sqlite:///bench/out/kontor-1m.sqlite3")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--only", default="", help="only operations whose name contains this")
    args = parser.parse_args(argv)
    _setup.configure(args.database_url)
    from django.db import connection

    from kontor.accounts.models import User
    from kontor.contacts import queries
    from kontor.contacts.models import Company, Person
    from kontor.contacts.queries import ListFilters
    from kontor.core.pagination import COUNT_CAP

    rng = random.Random(SEED)
    last_names = list(Person.objects.values_list("last_name", flat=True)[:2000])
    company_names = list(Company.objects.values_list("name", flat=True)[:2000])
    person_terms = sorted({n for n in last_names if len(n) >= 4})
    company_terms = sorted(set(company_names))
    person_terms = rng.sample(person_terms, min(50, len(person_terms)))
    company_terms = rng.sample(company_terms, min(50, len(company_terms)))

    def page(user, filters, offset=0):
        rows = queries.people(user, filters)[offset : offset + 50]
        return [(p.full_name, str(p.company)) for p in rows]

    deep = COUNT_CAP - 50

    operations = {
        "search by person name": (lambda u, q: page(u, ListFilters(q=q)), person_terms),
        "search by company name": (lambda u, q: page(u, ListFilters(q=q)), company_terms),
        "sorted by company": (lambda u, s: page(u, ListFilters(sort=s)), ["company"]),
        "sorted by -company": (lambda u, s: page(u, ListFilters(sort=s)), ["-company"]),
        "sorted by company, deep page": (
            lambda u, s: page(u, ListFilters(sort=s), deep),
            ["company"],
        ),
        "sorted by -company, deep page": (
            lambda u, s: page(u, ListFilters(sort=s), deep),
            ["-company"],
        ),
    }
    operations = {k: v for k, v in operations.items() if args.only in k}
    print(f"{connection.vendor}, {Person.objects.count():,} people\n")
    print("| user | operation | median (p95) |")
    print("| --- | --- | --- |")
    for email in USERS:
        user = User.objects.get(email=email)
        for name, (fn, inputs) in operations.items():
            median, p95 = median_ms(
                lambda v, fn=fn, user=user: fn(user, v), inputs, args.iterations
            )
            print(f"| {email.split('@')[0]} | {name} | {median:.2f} ms ({p95:.2f}) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
