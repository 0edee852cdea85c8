"""The import wizard's speed end to end (issue 15): people with their companies from a CSV
or XLSX file, read, mapped, checked for duplicates, written and audited through
``kontor.imports.jobs``, beside a raw bulk insert of the same rows into the same database,
then the import's undo. Peak memory: the process's private memory with its import
helper's (sampled) and its maximum resident size (``ru_maxrss``, with the database pages
SQLite maps). ``KONTOR_IMPORT_HELPER=0`` imports without a helper process.

    .venv/bin/python bench/imports.py --rows 100000 --format csv
    .venv/bin/python bench/imports.py --rows 100000 --format xlsx --undo

Each run makes a fresh SQLite file under /tmp/bench-imports (``--data-dir``; or uses
--database-url, an empty database).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import random
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup  # noqa: E402

DATA_DIR = Path("/tmp/bench-imports")
HEADERS = ["First name", "Last name", "Email", "Phone", "Company", "Position", "Birthday"]
FIRST = ["Olga", "Ivan", "Anna", "Pierre", "Marie", "Hans", "Grace", "Alan", "Лидия", "Пётр"]
LAST = ["Ivanova", "Petrov", "Martin", "Dubois", "Müller", "Hopper", "Turing", "Смирнова"]


def people_rows(count: int, seed: int = 7):
    rng = random.Random(seed)
    for index in range(count):
        yield [
            rng.choice(FIRST),
            rng.choice(LAST),
            f"person{index}@example.com",
            f"+7 916 {index // 10_000 % 1000:03d}-{index % 10_000 // 100:02d}-{index % 100:02d}",
            f"Company {rng.randrange(count // 20 + 1)}",
            rng.choice(["Buyer", "Engineer", "Director", ""]),
            f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        ]


def write_file(path: Path, count: int, format: str) -> None:
    if format == "csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(HEADERS)
            writer.writerows(people_rows(count))
        return
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("People")
    sheet.append(HEADERS)
    for row in people_rows(count):
        sheet.append(row)
    workbook.save(path)


class PrivateMemory:
    """The process's peak private memory (RssAnon: its heap, SQLite's page cache) with
    that of its import helper while one runs (the pages the helper has of its own,
    Private_Clean and Private_Dirty: those it shares with its parent since the fork are
    counted once, in the parent's), sampled every 0.2 s; ``ru_maxrss`` also counts the
    database file's pages SQLite reads through mmap, which are the OS's file cache, not
    the process's memory."""

    def __init__(self):
        self.peak_kb, self.peak_parts, self.started = 0, (0, 0), time.perf_counter()
        self.peak_at = 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while not self.done.wait(0.2):
            self._take()

    def _take(self) -> None:
        parts = self.now_kb()
        if sum(parts) > self.peak_kb:
            self.peak_kb, self.peak_parts = sum(parts), parts
            self.peak_at = time.perf_counter() - self.started

    @classmethod
    def now_kb(cls) -> tuple[int, int]:
        """This process's private memory and its helper's, in KiB."""
        return cls._field("/proc/self/status", ("RssAnon:",)), sum(
            cls._field(f"/proc/{child}/smaps_rollup", ("Private_Clean:", "Private_Dirty:"))
            for task in Path("/proc/self/task").iterdir()
            for child in (task / "children").read_text().split()
        )

    @staticmethod
    def _field(path: str, names: tuple[str, ...]) -> int:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:  # a helper that ended meanwhile
            return 0
        return sum(int(line.split()[1]) for line in lines if line.startswith(names))

    def stop(self) -> str:
        self.done.set()
        self.thread.join()
        self._take()
        importer, helper = (kb / 1024 for kb in self.peak_parts)
        return (
            f"{self.peak_kb / 1024:,.0f} MB (importer {importer:,.0f}, helper {helper:,.0f},"
            f" {self.peak_at:,.0f} s in)"
        )


def raw_insert(connection, count: int) -> float:
    """Rows per second of a plain multi-row insert of the same values, no checks."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_raw (first TEXT, last TEXT, email TEXT, phone TEXT, company"
            " TEXT, position TEXT, birthday TEXT)"
        )
    started = time.perf_counter()
    rows = people_rows(count)
    while True:
        batch = [row for _ in range(1_000) if (row := next(rows, None)) is not None]
        if not batch:
            break
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_raw VALUES (%s, %s, %s, %s, %s, %s, %s)", batch)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw")
    return count / seconds


def _time_phases() -> dict[str, float]:
    """Timers around the import's steps (each includes the steps it calls: a batch's
    linking creates its companies through the bulk path)."""
    from profile_import import time_phases

    from kontor.core import bulk
    from kontor.imports import mapping, services

    totals: dict[str, float] = {}
    time_phases(services._Run, ["batch", "_first_of_their_keys", "_match", "_link"], totals)
    time_phases(services._Run, ["_create"], totals)
    time_phases(mapping.Mapping, ["convert"], totals)
    time_phases(bulk, totals=totals)
    return totals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--database-url")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="files and databases")
    parser.add_argument("--undo", action="store_true", help="also time undoing the import")
    parser.add_argument("--profile", type=int, metavar="TOP", help="cProfile the run, TOP lines")
    parser.add_argument("--sort", default="tottime", help="the profile's order")
    parser.add_argument("--phases", action="store_true", help="time the import's steps")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(exist_ok=True)
    database = args.data_dir / f"{args.format}-{args.rows}.sqlite3"
    for leftover in args.data_dir.glob(f"{database.name}*"):
        leftover.unlink()
    source = args.data_dir / f"people-{args.rows}.{args.format}"
    if not source.exists():
        write_file(source, args.rows, args.format)
    _setup.configure(args.database_url or f"sqlite:///{database}")
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection

    from kontor.accounts import services as accounts
    from kontor.contacts.models import Company, Person
    from kontor.core import types
    from kontor.core.access import SYSTEM
    from kontor.imports import jobs

    call_command("migrate", interactive=False, verbosity=0)
    root = accounts.create_department(name="Bench Co", actor=SYSTEM)
    admin = accounts.create_user(
        email="admin@bench.example",
        password=None,
        department=root,
        roles=[accounts.role_named("admin")],
        actor=SYSTEM,
    )
    people = types.by_name("person")
    phases = _time_phases() if args.phases else None
    memory = PrivateMemory()
    started, cpu_started = time.perf_counter(), time.process_time()
    with source.open("rb") as handle:
        job = jobs.start_import(
            File(handle, name=source.name),
            people,
            actor=admin,
            columns=None,
            reading={},
            options={"match_on": ["email"]},
        )
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    job = jobs.run(job)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    # CPU time of this process: on a shared machine, less moved by the others' load.
    cpu = time.process_time() - cpu_started
    private_memory = memory.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: {connection.vendor}; file: {source.name} ({source.stat().st_size:,} bytes)")
    print(
        f"import: {job.state}, {Person.objects.count():,} people and"
        f" {Company.objects.count():,} companies in {seconds:.1f} s:"
        f" {args.rows / seconds:,.0f} rows/s ({cpu / args.rows * 1e6:.0f} µs of CPU per row);"
        f" peak private memory {private_memory}"
        f" (maximum resident, mapped database pages included: {peak_mb:,.0f} MB)"
    )
    print(f"raw bulk insert of the same rows: {raw_insert(connection, args.rows):,.0f} rows/s")
    for name, phase_seconds in (phases or {}).items():
        print(f"  {name:28s} {phase_seconds / args.rows * 1e6:6.1f} µs per row")
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.profile)
    if args.undo:
        started = time.perf_counter()
        counts = jobs.undo(job, actor=admin)
        print(f"undo: {counts} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
