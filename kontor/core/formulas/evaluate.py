"""A checked tree to nested Python closures, one per part: no text is ever executed, and a
formula reaches only the values its caller hands in. A part that reads no field and not
today's date is computed once, when the formula compiles (its errors refuse the formula).

Empty values: arithmetic and most functions give empty when an operand is empty; "&",
concat() and text() read empty as ""; = and != compare empties (empty equals only
empty), the other comparisons with an empty are false; and, or, not and if() take an
empty condition as false; coalesce(), is_empty(), min() and max() look for them.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.utils import timezone

from .functions import (
    BOOLEAN,
    CONTEXT,
    DATE,
    FUNCTIONS,
    MONEY,
    NUMBER,
    TEXT,
    Env,
    as_text,
    bounded,
    charge_text,
    computed,
    division_by_zero,
    joined,
    whole,
)
from .limits import MAX_EXPONENT
from .parser import Node

Closure = Callable[[Env], object]


def build(node: Node) -> tuple[Closure, bool]:
    """The closure computing ``node``, and whether it is constant (reads no field or date)."""
    built = [build(arg) for arg in node.args]
    closures = [closure for closure, _constant in built]
    constant = all(constant for _closure, constant in built)
    if node.op == "name" or (node.op == "call" and node.value == "today"):
        constant = False
    closure = _closure(node, closures)
    if constant and node.op != "literal":
        value = closure(Env({}, datetime.date.min))
        return (lambda env: value), True
    return closure, constant


def _closure(node: Node, args: list[Closure]) -> Closure:
    op = node.op
    if op == "literal":
        value = node.value
        return lambda env: value
    if op == "name":
        return _LOADERS[node.kind](node.value, node.position)
    if op == "call":
        return _call(node, args)
    if op == "not":
        (operand,) = args
        return lambda env: operand(env) is not True
    if op in ("and", "or"):
        left, right = args
        if op == "and":
            return lambda env: left(env) is True and right(env) is True
        return lambda env: left(env) is True or right(env) is True
    if op == "compare":
        return _compare(node, *args)
    if op == "&":
        return _join(node, *args)
    if op == "negate":
        (operand,) = args
        return lambda env: None if (value := operand(env)) is None else CONTEXT.minus(value)
    return _arithmetic(node, *args, _OPERATIONS[op])


def _call(node: Node, args: list[Closure]) -> Closure:
    function = FUNCTIONS[node.value]
    run = function.run
    if function.lazy:
        return lambda env: run(node, args, env)
    if function.strict:

        def strict(env):
            values = [arg(env) for arg in args]
            if any(value is None for value in values):
                return None
            return run(node, values, env)

        return strict
    return lambda env: run(node, [arg(env) for arg in args], env)


def _compare(node: Node, left: Closure, right: Closure) -> Closure:
    operator = node.value
    test = _COMPARISONS[operator]
    text = TEXT in (node.args[0].kind, node.args[1].kind)
    position = node.position

    def compare(env):
        a, b = left(env), right(env)
        if a is None or b is None:
            both = a is None and b is None
            return both if operator == "=" else (not both if operator == "!=" else False)
        if text:
            charge_text(env, min(len(a), len(b)), position)
        return test(a, b)

    return compare


def _join(node: Node, left: Closure, right: Closure) -> Closure:
    left_kind, right_kind = (arg.kind for arg in node.args)
    position = node.position
    return lambda env: joined(
        env, position, (as_text(left(env), left_kind), as_text(right(env), right_kind))
    )


def _arithmetic(node: Node, left: Closure, right: Closure, operation) -> Closure:
    def arithmetic(env):
        a = left(env)
        if a is None:
            return None
        b = right(env)
        if b is None:
            return None
        return operation(node, a, b)

    return arithmetic


def _divide(node: Node, a: Decimal, b: Decimal) -> Decimal:
    if not b:
        raise division_by_zero(node.position)
    return computed(CONTEXT.divide, node.position, a, b)


def _modulo(node: Node, a: Decimal, b: Decimal) -> Decimal:
    """The remainder with the divisor's sign, as spreadsheets give it: -7 % 3 is 2."""
    if not b:
        raise division_by_zero(node.position)
    remainder = computed(CONTEXT.remainder, node.position, a, b)
    if remainder and (remainder < 0) != (b < 0):
        remainder = computed(CONTEXT.add, node.position, remainder, b)
    return remainder


def _power(node: Node, a: Decimal, b: Decimal) -> Decimal:
    exponent = whole(b, node.args[1].start, "^", -MAX_EXPONENT, MAX_EXPONENT)
    if not a:
        if exponent < 0:
            raise division_by_zero(node.position)
        return Decimal(0) if exponent else Decimal(1)
    return computed(CONTEXT.power, node.position, a, exponent)


_OPERATIONS = {
    "+": lambda node, a, b: computed(CONTEXT.add, node.position, a, b),
    "-": lambda node, a, b: computed(CONTEXT.subtract, node.position, a, b),
    "*": lambda node, a, b: computed(CONTEXT.multiply, node.position, a, b),
    "/": _divide,
    "%": _modulo,
    "^": _power,
}
_COMPARISONS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


# -- reading the caller's values ---------------------------------------------------------
# A value of the wrong Python type is the caller's mistake (TypeError), not the user's.


def _wrong(name: str, value, expected: str) -> TypeError:
    return TypeError(f"formula value {name!r}: expected {expected}, got {type(value).__name__}")


def _load_number(name: str, position: int) -> Closure:
    def load(env):
        value = env.values.get(name)
        if value is None:
            return None
        if type(value) is int:
            value = Decimal(value)
        elif not isinstance(value, Decimal) or not value.is_finite():
            raise _wrong(name, value, "a finite Decimal or an int")
        return bounded(value, position)

    return load


def _load_instance(python_type: type, expected: str) -> Callable[[str, int], Closure]:
    """The loader of a kind held as one Python type, taken as it is."""

    def loader(name: str, position: int) -> Closure:
        def load(env):
            value = env.values.get(name)
            if value is not None and not isinstance(value, python_type):
                raise _wrong(name, value, expected)
            return value

        return load

    return loader


def _load_date(name: str, position: int) -> Closure:
    """A date; a moment is read as its date in the current time zone."""

    def load(env):
        value = env.values.get(name)
        if isinstance(value, datetime.datetime):
            return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        if value is not None and not isinstance(value, datetime.date):
            raise _wrong(name, value, "a date")
        return value

    return load


_LOADERS = {
    NUMBER: _load_number,
    MONEY: _load_number,
    TEXT: _load_instance(str, "str"),
    DATE: _load_date,
    BOOLEAN: _load_instance(bool, "bool"),
}
