"""Random formulas, from the grammar and from raw text, over random values: compiling and
evaluating gives a value of the declared kind or a FormulaError, never anything else."""

import datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kontor.core import formulas
from kontor.core.formulas.functions import FUNCTIONS
from kontor.core.formulas.limits import MAX_ADJUSTED_EXPONENT, MAX_TEXT

SCHEMA = {
    "amount": "money",
    "quantity": "integer",
    "ratio": "decimal",
    "name": "text",
    "notes": "long_text",
    "due": "date",
    "created": "datetime",
    "vip": "boolean",
    "company.name": "text",
}
RESULT_TYPES = {
    "number": Decimal,
    "money": Decimal,
    "text": str,
    "date": datetime.date,
    "boolean": bool,
}
OPERATORS = ["+", "-", "*", "/", "%", "^", "&", "=", "!=", "<", "<=", ">", ">=", "and", "or"]
BOUND = Decimal(10) ** (MAX_ADJUSTED_EXPONENT + 1) - 1

numbers = st.decimals(
    min_value=-BOUND, max_value=BOUND, allow_nan=False, allow_infinity=False, places=4
)
literals = st.one_of(
    st.integers(min_value=0, max_value=10**20).map(str),
    st.decimals(min_value=0, max_value=10**6, places=3).map(lambda d: format(d, "f")),
    st.text(max_size=12).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(["true", "false", "null", "today()", "0", "1000", "0.5"]),
    st.sampled_from([*SCHEMA, "unknown", "company.nope"]),
)


def _expressions(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(OPERATORS), children).map(" ".join),
        children.map(lambda e: f"-{e}"),
        children.map(lambda e: f"not {e}"),
        children.map(lambda e: f"({e})"),
        st.tuples(st.sampled_from([*FUNCTIONS, "nope"]), st.lists(children, max_size=4)).map(
            lambda call: f"{call[0]}({', '.join(call[1])})"
        ),
    )


grammar = st.recursive(literals, _expressions, max_leaves=25)

# Well-kinded arithmetic, so that most examples run to the end on extreme values.
number_leaves = st.one_of(
    st.sampled_from(["amount", "quantity", "ratio", "len(name)", "year(due)", "0", "1"]),
    st.decimals(min_value=-(10**17), max_value=10**17, places=10).map(
        lambda d: format(d, "f") if d >= 0 else f"({format(d, 'f')})"
    ),
)


def _arithmetic(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%", "^"]), children).map(
            lambda t: f"({' '.join(t)})"
        ),
        st.tuples(
            st.sampled_from(["round", "floor", "ceil", "abs", "min", "max", "-"]), children
        ).map(lambda call: f"{call[0]}({call[1]})"),
        st.tuples(children, children).map(lambda pair: f"round({pair[0]}, {pair[1]})"),
        st.tuples(children, children)
        .map(lambda pair: f"add_months(due, {pair[0]}) < add_days(due, {pair[1]})")
        .map(lambda comparison: f"if({comparison}, 1, 2)"),
    )


arithmetic = st.recursive(number_leaves, _arithmetic, max_leaves=12)
raw = st.text(
    alphabet=st.one_of(
        st.sampled_from(list('()+-*/%^&=<>!,."\\ 0123456789abeinorstu_')), st.characters()
    ),
    max_size=60,
)
values = st.fixed_dictionaries(
    {},
    optional={
        "amount": numbers,
        "quantity": st.integers(min_value=-(2**53), max_value=2**53),
        "ratio": numbers,
        "name": st.text(max_size=50),
        "notes": st.text(max_size=50) | st.just("z" * 20_000),
        "due": st.dates(),
        "created": st.datetimes(timezones=st.just(datetime.UTC)),
        "vip": st.booleans(),
        "company.name": st.text(max_size=20),
    },
)


def check(source: str, record: dict, today: datetime.date) -> None:
    try:
        formula = formulas.compile(source, SCHEMA)
        result = formula.evaluate(record, today=today)
    except formulas.FormulaError as error:
        assert 0 <= error.position <= len(source)
        assert error.line >= 1 and error.column >= 1
        return
    assert formula.kind in RESULT_TYPES
    assert formula.names <= set(SCHEMA)
    if result is None:
        return
    assert isinstance(result, RESULT_TYPES[formula.kind])
    if formula.kind == "date":
        assert not isinstance(result, datetime.datetime)
    if formula.kind in ("number", "money"):
        assert result.is_finite() and result.adjusted() <= MAX_ADJUSTED_EXPONENT
    if formula.kind == "money":
        assert result.as_tuple().exponent == -2
    if formula.kind == "text":
        assert len(result) <= MAX_TEXT


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(source=grammar, record=values, today=st.dates())
def test_grammar_formulas(source, record, today):
    check(source, record, today)


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(source=arithmetic, record=values, today=st.dates())
def test_arithmetic(source, record, today):
    check(source, record, today)


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(source=raw, record=values, today=st.dates())
def test_raw_text(source, record, today):
    check(source, record, today)
