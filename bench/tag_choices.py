"""Time the tag picker (contacts.queries.tags_in_use) at a million people.

    .venv/bin/python bench/tag_choices.py                 # bench/out/tags-1m.sqlite3
    .venv/bin/python bench/tag_choices.py --people 100000 --database-url postgres://...

Only the tables the picker reads are filled, by bulk_create (no audit, no search): ten
departments under one root, a user of each built-in role, people spread evenly over the
departments. 60 tags: 40 shared by every department (one person in ten carries one),
and two per department found only there, so a member's list must leave out 18 tags
that sit on records they cannot see. Prints the median and slowest of 20 calls per user.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

DEPARTMENTS = 10
SHARED_TAGS = 40
BATCH = 20_000


def fill(people: int):
    from kontor.accounts import services as accounts
    from kontor.accounts.models import Role
    from kontor.contacts.models import Person, Tag
    from kontor.core.access import SYSTEM

    root = accounts.create_department(name="Tags Co", actor=SYSTEM)
    departments = [
        accounts.create_department(name=f"Tags {i}", parent=root, actor=SYSTEM)
        for i in range(DEPARTMENTS)
    ]
    users = {
        name: accounts.create_user(
            email=f"{name}@tags.example",
            password="Bench-pass-123",
            department=departments[0] if name == "member" else root,
            roles=[Role.objects.get(name=role)],
            actor=SYSTEM,
        )
        for name, role in (("admin", "admin"), ("head", "head"), ("member", "member"))
    }
    shared = [Tag.objects.create(name=f"shared-{i}") for i in range(SHARED_TAGS)]
    big_hidden = Tag.objects.create(name="last-department-all")
    local = {
        d.pk: [Tag.objects.create(name=f"{d.name}-only-{k}") for k in range(2)] for d in departments
    }
    link = Person.tags.through
    for start in range(0, people, BATCH):
        batch = [
            Person(
                first_name="P",
                last_name=str(i),
                owner_id=users["admin"].pk,
                department_id=departments[i % DEPARTMENTS].pk,
            )
            for i in range(start, min(start + BATCH, people))
        ]
        Person.objects.bulk_create(batch)
        links = []
        for i, person in enumerate(batch, start):
            if i % 7 == 0:
                links.append(link(person_id=person.pk, tag_id=shared[i // 70 % SHARED_TAGS].pk))
            if person.department_id == departments[-1].pk:
                links.append(link(person_id=person.pk, tag_id=big_hidden.pk))
            if i % 1000 < DEPARTMENTS:
                tag = local[person.department_id][i // 1000 % 2]
                links.append(link(person_id=person.pk, tag_id=tag.pk))
        link.objects.bulk_create(links)
    return users


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="default: sqlite:///bench/out/tags-1m.sqlite3")
    args = parser.parse_args(argv)
    default = _setup.OUT_DIR / "tags-1m.sqlite3"
    if not args.database_url:
        _setup.OUT_DIR.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{default}{suffix}").unlink(missing_ok=True)
    _setup.configure(args.database_url or f"sqlite:///{default}")
    from django.core.management import call_command
    from django.db import connection

    from kontor.accounts.models import User
    from kontor.contacts import queries
    from kontor.contacts.models import Person

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    fill(args.people)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"{connection.vendor}: {args.people:,} people in {time.perf_counter() - started:.0f} s")
    for name in ("admin", "head", "member"):
        user = User.objects.get(email=f"{name}@tags.example")
        times, count = [], 0
        for _ in range(20):
            user = User.objects.get(pk=user.pk)  # a fresh request: grants read again
            began = time.perf_counter()
            count = len(list(queries.tags_in_use(user, Person)))
            times.append((time.perf_counter() - began) * 1000)
        print(
            f"{name:7} {count:3} tags offered: median {statistics.median(times):7.1f} ms, "
            f"slowest {max(times):7.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
