"""Known escape and abuse attempts: each ends in a FormulaError with its offset, quickly."""

import gc
import time

import pytest

from kontor.core import formulas

from .attempts import ATTEMPTS, SCHEMA, TODAY, VALUES

LIMIT_SECONDS = 0.05


def run(source: str):
    return formulas.compile(source, SCHEMA).evaluate(VALUES, today=TODAY)


def test_there_are_at_least_sixty_attempts():
    assert len(ATTEMPTS) >= 60


@pytest.mark.parametrize("source", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_attempt_fails_fast_with_a_located_error(source):
    # Timed without the cyclic collector: a full pass over the test process's heap costs
    # tens of milliseconds whatever code happens to trigger it (docs/benchmarks.md).
    gc.disable()
    try:
        started = time.perf_counter()
        with pytest.raises(formulas.FormulaError) as caught:
            run(source)
        elapsed = time.perf_counter() - started
    finally:
        gc.enable()
    error = caught.value
    assert 0 <= error.position <= len(source)
    assert error.line >= 1 and error.column >= 1
    assert error.message and str(error).endswith(f"({error.line}:{error.column})")
    assert elapsed <= LIMIT_SECONDS


def test_the_schema_kinds_are_what_the_attempts_read():
    # The attempts above fail for their own reason, not because the values are unreadable.
    assert run("len(name) + quantity") == 5003
    assert run("year(created_at)") == 2026
    assert run("coalesce(company.name, stage)") == "Acme"


@pytest.mark.parametrize(
    "name", ["time bomb with a growing power", "time bomb dividing by zero", "time bomb in text"]
)
def test_a_time_bomb_compiles_and_fails_cleanly_only_once_its_date_passes(name):
    formula = formulas.compile(ATTEMPTS[name], SCHEMA)
    assert formula.evaluate(VALUES, today=TODAY.replace(year=2026)) is not None
    with pytest.raises(formulas.FormulaError):
        formula.evaluate(VALUES, today=TODAY)
