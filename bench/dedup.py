"""Time the duplicate finder (kontor.dedup.finder) on many people.

    .venv/bin/python bench/dedup.py --people 1000000     # bench/out/dedup-1000000.sqlite3

Makes its own SQLite database (rows written straight by bulk_create: the finder reads
names, employers, birthdays, emails, phones and addresses only, so no audit or search
documents are needed), names drawn from Russian, English and French lists: one person
in 2 with an employer (one of people / 20 companies), one in 3 with a birthday, one in 3
with an email and one in 3 with a phone; one person in 50 a misspelt or re-typed copy
of another that kept each of its employer and birthday with even odds (the copies are
listed beside the database). Then runs a whole scan as the background job does (find
and store) and prints its time, the pairs by reasons, how many copies it offers and
the process's peak memory, for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

SEED = 15
CHUNK = 20_000
BORN_FROM = datetime.date(1950, 1, 1)


def misspelt(rng: random.Random, name: str) -> str:
    """One letter changed, dropped or doubled, as a hurried typist does."""
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    return rng.choice(
        [name[:i] + name[i + 1 :], name[:i] + name[i] + name[i:], name[:i] + "e" + name[i + 1 :]]
    )


def generate(people: int, copies_file: Path) -> None:
    from django.core.management import call_command
    from faker import Faker

    from kontor.contacts.models import Company, Email, Person, Phone

    call_command("migrate", verbosity=0)
    if Person.objects.exists():
        return
    companies = [Company(name=f"Company {i}") for i in range(people // 20 + 1)]
    Company.objects.bulk_create(companies, batch_size=2000)
    employers = [c.pk for c in companies]
    fakers = [Faker(locale) for locale in ("ru_RU", "en_US", "fr_FR")]
    for fake in fakers:
        fake.seed_instance(SEED)
    pools = [
        ([fake.first_name() for _ in range(400)], [fake.last_name() for _ in range(1500)])
        for fake in fakers
    ]
    rng = random.Random(SEED)
    made = 0
    started = time.perf_counter()
    previous: list[Person] = []
    copies: list[tuple[Person, Person]] = []
    while made < people:
        size = min(CHUNK, people - made)
        rows = []
        for _row in range(size):
            if previous and rng.random() < 0.02:
                original = rng.choice(previous)
                first, last = original.first_name, original.last_name
                first, last = (first, misspelt(rng, last)) if rng.random() < 0.7 else (last, first)
                row = Person(first_name=first, last_name=last)
                row.company_id = original.company_id if rng.random() < 0.5 else None
                row.birthday = original.birthday if rng.random() < 0.5 else None
                copies.append((original, row))
            else:
                firsts, lasts = rng.choice(pools)
                row = Person(first_name=rng.choice(firsts), last_name=rng.choice(lasts))
                row.company_id = rng.choice(employers) if rng.random() < 0.5 else None
                if rng.random() < 1 / 3:
                    row.birthday = BORN_FROM + datetime.timedelta(days=rng.randrange(20_000))
                if len(previous) < 50_000:
                    previous.append(row)
                else:
                    previous[rng.randrange(len(previous))] = row
            rows.append(row)
        Person.objects.bulk_create(rows, batch_size=2000)
        emails, phones = [], []
        for pk in (row.pk for row in rows):
            if rng.random() < 1 / 3:
                address = f"p{pk % (people // 2 + 1)}@example.com"  # some shared
                emails.append(Email(person_id=pk, address=address, normalized=address))
            if rng.random() < 1 / 3:
                e164 = f"+79{pk % (people * 2 // 3 + 1):09d}"
                phones.append(Phone(person_id=pk, raw=e164, e164=e164))
        Email.objects.bulk_create(emails, batch_size=2000)
        Phone.objects.bulk_create(phones, batch_size=2000)
        made += size
        print(f"\r{made:,} people", end="", flush=True)
    copies_file.write_text(json.dumps([[a.pk, b.pk] for a, b in copies]))
    print(f" in {time.perf_counter() - started:.0f} s")


def copies_offered(copies_file: Path) -> tuple[int, int]:
    """(planted copies, of which the scan offers the pair with their original)."""
    from kontor.dedup.models import Candidate

    copies = {(min(a, b), max(a, b)) for a, b in json.loads(copies_file.read_text())}
    firsts = sorted({a for a, _b in copies})
    offered = 0
    for start in range(0, len(firsts), 900):
        rows = Candidate.objects.filter(
            object_type="contacts.person", first_id__in=firsts[start : start + 900]
        ).values_list("first_id", "second_id")
        offered += sum(1 for pair in rows if pair in copies)
    return len(copies), offered


def pairs_by_reasons() -> dict[str, int]:
    """Open pairs by their set of reasons ("email", "name+employer", ...)."""
    from django.db.models import Count

    from kontor.dedup.models import REASON_BITS, Candidate

    counted = Candidate.objects.values("reasons").annotate(pairs=Count("id")).order_by()
    return {
        "+".join(r for r, bit in REASON_BITS.items() if row["reasons"] & bit): row["pairs"]
        for row in sorted(counted, key=lambda row: -row["pairs"])
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{_setup.OUT_DIR}/dedup-{args.people}.sqlite3"
    copies_file = _setup.OUT_DIR / f"dedup-{args.people}.copies.json"
    _setup.configure(url)
    generate(args.people, copies_file)

    from kontor.dedup import finder

    spec = finder.SPECS["contacts.person"]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    marks = []

    def progress(done: int, total: int) -> None:
        if not marks or done * 10 // max(total, 1) > marks[-1][0]:
            marks.append((done * 10 // max(total, 1), time.perf_counter() - started))

    stored = finder.scan(spec, progress)
    total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    planted, offered = copies_offered(copies_file)
    print(
        f"{args.people:,} people: scan {total:.1f} s, {stored:,} open pairs "
        f"(by reasons: {pairs_by_reasons()}); {offered:,} of {planted:,} planted copies offered; "
        f"peak RSS {peak / 1024:.0f} MB (before the scan {rss_before / 1024:.0f} MB); "
        f"pid {os.getpid()}"
    )
    print("progress (tenths, seconds):", marks)


if __name__ == "__main__":
    main()
