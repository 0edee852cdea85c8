"""Formulas: what each escape and abuse attempt costs to refuse, and what typical formulas
cost to compile and evaluate.

    .venv/bin/python bench/formulas.py [--rounds 30]

Every attempt of tests/core/formulas/attempts.py is compiled and evaluated (as of the
date its time bombs wait for) ``--rounds`` times, each timed from the source text to
the FormulaError: the median and the maximum per attempt, the slowest attempts listed.
Each run is timed with the cyclic collector off, so that a full collection (its cost
is the heap's, printed first, not the formula's) falls between runs, never inside one.
The typical formulas are compiled in a loop, then evaluated in a loop over one record
(each per-call figure is the best of five loops, so other processes on the machine
weigh least). No database is read. Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402

TYPICAL = {
    "line net, rounded": "round(price * quantity * (100 - discount) / 100, 2)",
    "label by condition": 'if(vip and amount > 1000, "Key account", "Standard")',
    "days overdue": "max(days_between(due_date, today()), 0)",
    "display name": 'coalesce(company.name, "—") & " / " & upper(stage)',
    "renewal date": "add_months(due_date, 12)",
}
# The costliest formulas the limits let through.
HEAVIEST = {
    "49 searches of a 20,000-character text (the text budget)": "concat("
    + ", ".join(['contains(notes, "a")'] * 49)
    + ")",
    "40 levels of if()": "if(vip, " * 39 + "amount" + ", 0)" * 39,
    "500 values and calls (the size limit)": "max(amount" + ", 1" * 498 + ")",
}
LOOPS = 5
CALLS = 20_000


def refusal_times(formulas, attempts, rounds):
    from tests.core.formulas.attempts import SCHEMA, TODAY, VALUES

    figures = {}
    for name, source in attempts.items():
        times = []
        for _round in range(rounds):
            gc.disable()
            started = time.perf_counter()
            try:
                formulas.compile(source, SCHEMA).evaluate(VALUES, today=TODAY)
            except formulas.FormulaError:
                pass
            else:
                raise SystemExit(f"attempt not refused: {name}")
            finally:
                times.append((time.perf_counter() - started) * 1000)
                gc.enable()
        figures[name] = (statistics.median(times), max(times))
    return figures


def per_call(call, calls: int) -> float:
    """Microseconds per call, the best of LOOPS loops."""
    best = float("inf")
    for _loop in range(LOOPS):
        started = time.perf_counter()
        for _call in range(calls):
            call()
        best = min(best, (time.perf_counter() - started) / calls * 1e6)
    return best


def formula_times(formulas, sources: dict[str, str], calls: int):
    from tests.core.formulas.attempts import SCHEMA, TODAY, VALUES

    rows = []
    for name, source in sources.items():
        formula = formulas.compile(source, SCHEMA)
        compiled_us = per_call(functools.partial(formulas.compile, source, SCHEMA), calls // 20)
        evaluated_us = per_call(functools.partial(formula.evaluate, VALUES, today=TODAY), calls)
        rows.append((name, source, compiled_us, evaluated_us))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    _setup.configure(None)
    from kontor.core import formulas
    from tests.core.formulas.attempts import ATTEMPTS

    started = time.perf_counter()
    gc.collect()
    collection_ms = (time.perf_counter() - started) * 1000
    objects = len(gc.get_objects())
    print(f"A full collection of this process's {objects:,} objects: {collection_ms:.0f} ms.\n")
    figures = refusal_times(formulas, ATTEMPTS, args.rounds)
    medians = [median for median, _maximum in figures.values()]
    slowest = sorted(figures.items(), key=lambda item: item[1][1], reverse=True)
    print(f"Attempts: {len(figures)}, {args.rounds} rounds each (compile + evaluate).\n")
    print("| | median | max |")
    print("| --- | --- | --- |")
    print(
        f"| all attempts | {statistics.median(medians):.3f} ms (median of medians) "
        f"| {slowest[0][1][1]:.3f} ms (slowest single run) |"
    )
    for name, (median, maximum) in slowest[:6]:
        print(f"| {name} | {median:.3f} ms | {maximum:.3f} ms |")
    print("\n| typical formula | compile | evaluate |")
    print("| --- | --- | --- |")
    total = 0.0
    for name, source, compiled_us, evaluated_us in formula_times(formulas, TYPICAL, CALLS):
        total += evaluated_us
        print(f"| {name}: `{source}` | {compiled_us:.0f} µs | {evaluated_us:.1f} µs |")
    print(f"| all {len(TYPICAL)} on one record | | {total:.1f} µs |")
    print("\n| heaviest accepted | compile | evaluate |")
    print("| --- | --- | --- |")
    for name, _source, compiled_us, evaluated_us in formula_times(formulas, HEAVIEST, 200):
        print(f"| {name} | {compiled_us / 1000:.2f} ms | {evaluated_us / 1000:.2f} ms |")


if __name__ == "__main__":
    main()
