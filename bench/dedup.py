"""Time the duplicate finder (kontor.dedup.finder) on many people.

    .venv/bin/python bench/dedup.py --people 1000000     # bench/out/dedup-1000000.sqlite3

Makes its own SQLite database (rows written straight by bulk_create: the finder reads
names, emails and phones only, so no audit or search documents are needed), with one
person in 50 a misspelt or re-typed copy of another, one in 3 with an email and one in
3 with a phone, names drawn from Russian, English and French lists. Then runs a whole
scan as the background job does (find and store) and prints its time, the pairs and
the process's peak memory, for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
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


def misspelt(rng: random.Random, name: str) -> str:
    """One letter changed, dropped or doubled, as a hurried typist does."""
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    return rng.choice(
        [name[:i] + name[i + 1 :], name[:i] + name[i] + name[i:], name[:i] + "e" + name[i + 1 :]]
    )


def generate(people: int) -> None:
    from django.core.management import call_command
    from faker import Faker

    from kontor.contacts.models import Email, Person, Phone

    call_command("migrate", verbosity=0)
    if Person.objects.exists():
        return
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
    previous: list[tuple[str, str]] = []
    while made < people:
        size = min(CHUNK, people - made)
        rows = []
        for _row in range(size):
            if previous and rng.random() < 0.02:
                first, last = rng.choice(previous)
                first, last = (first, misspelt(rng, last)) if rng.random() < 0.7 else (last, first)
            else:
                firsts, lasts = rng.choice(pools)
                first, last = rng.choice(firsts), rng.choice(lasts)
                if len(previous) < 50_000:
                    previous.append((first, last))
                else:
                    previous[rng.randrange(len(previous))] = (first, last)
            rows.append(Person(first_name=first, last_name=last))
        Person.objects.bulk_create(rows, batch_size=2000)
        ids = list(Person.objects.order_by("-id").values_list("id", flat=True)[:size])
        emails, phones = [], []
        for pk in ids:
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
    print(f" in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{_setup.OUT_DIR}/dedup-{args.people}.sqlite3"
    _setup.configure(url)
    generate(args.people)

    from kontor.dedup import finder
    from kontor.dedup.models import REASON_BITS, Candidate

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
    reasons = {
        reason: Candidate.objects.filter(reasons=bit).count() for reason, bit in REASON_BITS.items()
    }
    print(
        f"{args.people:,} people: scan {total:.1f} s, {stored:,} open pairs "
        f"(by one reason only: {reasons}); "
        f"peak RSS {peak / 1024:.0f} MB (before the scan {rss_before / 1024:.0f} MB); "
        f"pid {os.getpid()}"
    )
    print("progress (tenths, seconds):", marks)


if __name__ == "__main__":
    main()
