"""Profile the bulk import in one process on a small fresh database.

    .venv/bin/python bench/profile_import.py                  # 20,000 people, cProfile
    .venv/bin/python bench/profile_import.py --people 50000 --no-profile

Rows come from bench/generate.py's generators (the same data as the 1M benchmark) and go
through kontor.core.bulk like every import. Prints the wall time per person and,
with cProfile, the functions that take it; docs/benchmarks.md quotes these numbers.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

PROFILE_DB = _setup.OUT_DIR / "profile.sqlite3"
# The import's steps in kontor.core.bulk, timed separately with --no-profile.
PHASES = ("_clean_row", "_prepare", "_write")


def time_phases(owner, names=PHASES, totals: dict[str, float] | None = None) -> dict[str, float]:
    """Wrap functions of ``owner`` (a module or class: by default the bulk import's phases,
    clean a row, prepare a batch, write it) in timers; answers the seconds per name."""
    totals = {} if totals is None else totals
    for name in names:
        inner = getattr(owner, name)
        totals[name] = 0.0

        def timed(*args, _inner=inner, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _inner(*args, **kwargs)
            finally:
                totals[_name] += time.perf_counter() - started

        setattr(owner, name, timed)
    return totals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--companies", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, help="default: the import's own")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args(argv)

    for suffix in ("", "-wal", "-shm"):
        Path(f"{PROFILE_DB}{suffix}").unlink(missing_ok=True)
    _setup.configure(f"sqlite:///{PROFILE_DB}")
    import generate
    from django.core.management import call_command

    from kontor.contacts import bulk
    from kontor.core import bulk as core_bulk
    from kontor.core.access import SYSTEM

    call_command("migrate", interactive=False, verbosity=0)
    args.batch_size = args.batch_size or core_bulk.DEFAULT_BATCH_SIZE
    pools = generate.Pools(random.Random(generate.SEED))
    placements = generate.make_staff()
    companies = bulk.import_companies(
        generate.company_rows(range(args.companies), pools, placements),
        actor=SYSTEM,
        batch_size=args.batch_size,
    )
    context = [(pk, *placements[i % len(placements)]) for i, pk in enumerate(companies.ids)]
    # Materialised first: the generator's own cost is not the import's.
    rows = list(generate.person_rows(range(args.people), pools, context))

    phases = time_phases(core_bulk) if args.no_profile else None
    profiler = None if args.no_profile else cProfile.Profile()
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = bulk.import_people(rows, actor=SYSTEM, batch_size=args.batch_size)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    # CPU time of this process: on a shared machine, less moved by the others' load.
    cpu = time.process_time() - cpu_started
    print(
        f"{result.created:,} people in {elapsed:.2f} s: "
        f"{elapsed / max(result.created, 1) * 1e6:.0f} µs per person, "
        f"{cpu / max(result.created, 1) * 1e6:.0f} µs of CPU"
        + (" (under cProfile)" if profiler else ""),
        flush=True,
    )
    if phases:
        for name, seconds in phases.items():
            print(f"  {name:12s} {seconds / max(result.created, 1) * 1e6:6.0f} µs per person")
    if profiler:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
