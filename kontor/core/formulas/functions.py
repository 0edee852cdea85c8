"""The functions of the language and the arithmetic under them: kinds checked when a formula
compiles, values computed when it runs. Only this table can be called: a name in a
formula is looked up here (functions) or in the caller's schema (fields), nowhere else.
"""

import calendar
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..money import round_cents
from .errors import KIND_LABELS, FormulaError
from .limits import (
    MAX_ADJUSTED_EXPONENT,
    MAX_ROUND_PLACES,
    MAX_TEXT,
    MAX_TEXT_WORK,
    MIN_ROUND_PLACES,
)

NUMBER, MONEY, TEXT, DATE, BOOLEAN, NULL = "number", "money", "text", "date", "boolean", "null"
NUMERIC = {NUMBER, MONEY}
ANY = {NUMBER, MONEY, TEXT, DATE, BOOLEAN}

# Half-up, as people round money by hand (2.345 -> 2.35; banker's rounding gives 2.34).
# Exponents bounded so that nothing a formula computes can grow without end; every
# signal that would give an infinity or NaN raises instead.
CONTEXT = Context(
    prec=34,
    rounding=ROUND_HALF_UP,
    Emax=999,
    Emin=-999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
_YEAR_DAYS = 366


class Env:
    """One evaluation: the record's values, today's date and the text worked on so far."""

    __slots__ = ("today", "values", "text_work")

    def __init__(self, values, today: datetime.date):
        self.values = values
        self.today = today
        self.text_work = 0


# -- checks shared by operators and functions ------------------------------------------


def kind_error(label: str, node) -> FormulaError:
    return FormulaError(
        _("“%(operator)s” cannot take a value of kind “%(kind)s”.")
        % {"operator": label, "kind": KIND_LABELS[node.kind]},
        node.start,
    )


def require(label: str, node, allowed: set[str]) -> None:
    if node.kind != NULL and node.kind not in allowed:
        raise kind_error(label, node)


def unify(label: str, nodes, allowed: set[str] = ANY) -> str:
    """The kind of a value that may come from any of ``nodes``: one kind, or numbers
    mixed with money (money wins); an empty literal fits anything."""
    result = NULL
    for node in nodes:
        require(label, node, allowed)
        if node.kind == NULL or node.kind == result:
            continue
        if result == NULL:
            result = node.kind
        elif {result, node.kind} == NUMERIC:
            result = MONEY
        else:
            raise FormulaError(
                _("“%(operator)s” cannot mix “%(first)s” with “%(second)s”.")
                % {
                    "operator": label,
                    "first": KIND_LABELS[result],
                    "second": KIND_LABELS[node.kind],
                },
                node.start,
            )
    return result


def too_large(position: int) -> FormulaError:
    return FormulaError(
        _("The number is too large: at most %(digits)d digits before the point.")
        % {"digits": MAX_ADJUSTED_EXPONENT + 1},
        position,
    )


def bounded(number: Decimal, position: int) -> Decimal:
    if number and number.adjusted() > MAX_ADJUSTED_EXPONENT:
        raise too_large(position)
    return number


def division_by_zero(position: int) -> FormulaError:
    return FormulaError(_("Division by zero."), position)


def computed(operation: Callable, position: int, *operands) -> Decimal:
    """``operation`` in the formula context, its result bounded, its signals as errors."""
    try:
        return bounded(operation(*operands), position)
    except Overflow:
        raise too_large(position) from None
    except DivisionByZero:
        raise division_by_zero(position) from None
    except DecimalException:
        raise FormulaError(_("This calculation has no result."), position) from None


def whole(value: Decimal, position: int, label: str, minimum: int, maximum: int) -> int:
    if value != value.to_integral_value() or not minimum <= value <= maximum:
        raise FormulaError(
            _("“%(function)s” needs a whole number from %(minimum)d to %(maximum)d here.")
            % {"function": label, "minimum": minimum, "maximum": maximum},
            position,
        )
    return int(value)


def charge_text(env: Env, characters: int, position: int) -> None:
    env.text_work += characters
    if env.text_work > MAX_TEXT_WORK:
        raise FormulaError(
            _("The formula works on too much text (over %(limit)d characters).")
            % {"limit": MAX_TEXT_WORK},
            position,
        )


def check_length(length: int, position: int) -> None:
    if length > MAX_TEXT:
        raise FormulaError(
            _("A text a formula builds is at most %(limit)d characters long.")
            % {"limit": MAX_TEXT},
            position,
        )


def as_text(value, kind: str) -> str:
    """How a value reads inside text: plain digits, money to the cent, ISO dates."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(round_cents(value) if kind == MONEY else value, "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def joined(env: Env, position: int, parts) -> str:
    length = sum(len(part) for part in parts)
    check_length(length, position)
    charge_text(env, length, position)
    return "".join(parts)


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def add_months(day: datetime.date, months: int, position: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day (31 January + 1 = 28/29 February)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
        raise date_out_of_range(position)
    return datetime.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def date_out_of_range(position: int) -> FormulaError:
    return FormulaError(_("The date is out of range (years 1 to 9999)."), position)


# -- the table --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Function:
    """``kind`` checks the arguments' kinds and gives the result's; ``run`` computes from
    the arguments' values (``lazy``: from their unevaluated closures). A ``strict``
    function gives empty when any argument is empty."""

    minimum: int
    maximum: int | None
    kind: Callable
    run: Callable
    strict: bool = True
    lazy: bool = False

    def check_count(self, count: int, position: int) -> None:
        if self.minimum <= count and (self.maximum is None or count <= self.maximum):
            return
        if self.maximum is None:
            message = ngettext(
                "This function takes at least %(minimum)d argument.",
                "This function takes at least %(minimum)d arguments.",
                self.minimum,
            )
        elif self.minimum == self.maximum:
            message = ngettext(
                "This function takes %(minimum)d argument.",
                "This function takes %(minimum)d arguments.",
                self.minimum,
            )
        else:
            message = _("This function takes %(minimum)d to %(maximum)d arguments.")
        raise FormulaError(message % {"minimum": self.minimum, "maximum": self.maximum}, position)


def _typed(*allowed: set[str], result: str | None = None) -> Callable:
    """Arguments of the given kinds; the result is ``result``, else the first argument's."""

    def kind(label, args):
        for node, kinds in zip(args, allowed, strict=False):
            require(label, node, kinds)
        return result or args[0].kind

    return kind


def _if(node, thunks, env):
    return thunks[1](env) if thunks[0](env) is True else thunks[2](env)


def _coalesce(node, thunks, env):
    for thunk in thunks:
        value = thunk(env)
        if not is_empty(value):
            return value
    return None


def _concat(node, values, env):
    return joined(
        env, node.position, [as_text(v, a.kind) for v, a in zip(values, node.args, strict=True)]
    )


def _cased(method: Callable) -> Callable:
    def run(node, values, env):
        charge_text(env, len(values[0]), node.position)
        result = method(values[0])
        check_length(len(result), node.position)
        return result

    return run


def _slice(from_end: bool) -> Callable:
    def run(node, values, env):
        text, count = values
        count = whole(count, node.args[1].start, node.value + "()", 0, MAX_TEXT)
        charge_text(env, count, node.position)
        return text[max(len(text) - count, 0) :] if from_end else text[:count]

    return run


def _contains(node, values, env):
    charge_text(env, len(values[0]) + len(values[1]), node.position)
    return values[1] in values[0]


def _round(node, values, env):
    places = 0
    if len(values) > 1:
        places = whole(values[1], node.args[1].start, "round()", MIN_ROUND_PLACES, MAX_ROUND_PLACES)
    return computed(
        lambda x: x.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, CONTEXT),
        node.position,
        values[0],
    )


def _integral(rounding: str) -> Callable:
    def run(node, values, env):
        return values[0].to_integral_value(rounding, CONTEXT)

    return run


def _extreme(pick: Callable) -> Callable:
    """min() / max(): empty values are skipped; all empty gives empty."""

    def run(node, values, env):
        present = [v for v in values if v is not None]
        if node.kind == TEXT:
            charge_text(env, sum(len(v) for v in present), node.position)
        return pick(present) if present else None

    return run


def _date(node, values, env):
    year, month, day = (
        whole(v, a.start, "date()", 1, 9999) for v, a in zip(values, node.args, strict=True)
    )
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise FormulaError(_("There is no such date."), node.position) from None


def _add_days(node, values, env):
    limit = (datetime.MAXYEAR + 1) * _YEAR_DAYS
    days = whole(values[1], node.args[1].start, "add_days()", -limit, limit)
    try:
        return values[0] + datetime.timedelta(days=days)
    except OverflowError:
        raise date_out_of_range(node.position) from None


def _add_months(node, values, env):
    limit = (datetime.MAXYEAR + 1) * 12
    months = whole(values[1], node.args[1].start, "add_months()", -limit, limit)
    return add_months(values[0], months, node.position)


def _days_between(node, values, env):
    return Decimal((values[1] - values[0]).days)


def _if_kind(label, args):
    require(label, args[0], {BOOLEAN})
    return unify(label, args[1:])


FUNCTIONS: dict[str, Function] = {
    "if": Function(3, 3, _if_kind, _if, strict=False, lazy=True),
    "coalesce": Function(2, None, unify, _coalesce, strict=False, lazy=True),
    "is_empty": Function(
        1, 1, _typed(ANY, result=BOOLEAN), lambda node, values, env: is_empty(values[0]), False
    ),
    "concat": Function(1, None, lambda label, args: TEXT, _concat, strict=False),
    "text": Function(1, 1, lambda label, args: TEXT, _concat, strict=False),
    "len": Function(
        1, 1, _typed({TEXT}, result=NUMBER), lambda node, values, env: Decimal(len(values[0]))
    ),
    "upper": Function(1, 1, _typed({TEXT}, result=TEXT), _cased(str.upper)),
    "lower": Function(1, 1, _typed({TEXT}, result=TEXT), _cased(str.lower)),
    "trim": Function(1, 1, _typed({TEXT}, result=TEXT), _cased(str.strip)),
    "left": Function(2, 2, _typed({TEXT}, {NUMBER}, result=TEXT), _slice(from_end=False)),
    "right": Function(2, 2, _typed({TEXT}, {NUMBER}, result=TEXT), _slice(from_end=True)),
    "contains": Function(2, 2, _typed({TEXT}, {TEXT}, result=BOOLEAN), _contains),
    "round": Function(1, 2, _typed(NUMERIC, {NUMBER}), _round),
    "floor": Function(1, 1, _typed(NUMERIC), _integral(ROUND_FLOOR)),
    "ceil": Function(1, 1, _typed(NUMERIC), _integral(ROUND_CEILING)),
    "abs": Function(1, 1, _typed(NUMERIC), lambda node, values, env: values[0].copy_abs()),
    "min": Function(
        1,
        None,
        lambda label, args: unify(label, args, NUMERIC | {DATE, TEXT}),
        _extreme(min),
        False,
    ),
    "max": Function(
        1,
        None,
        lambda label, args: unify(label, args, NUMERIC | {DATE, TEXT}),
        _extreme(max),
        False,
    ),
    "today": Function(0, 0, lambda label, args: DATE, lambda node, values, env: env.today),
    "date": Function(3, 3, _typed({NUMBER}, {NUMBER}, {NUMBER}, result=DATE), _date),
    "year": Function(
        1, 1, _typed({DATE}, result=NUMBER), lambda node, values, env: Decimal(values[0].year)
    ),
    "month": Function(
        1, 1, _typed({DATE}, result=NUMBER), lambda node, values, env: Decimal(values[0].month)
    ),
    "day": Function(
        1, 1, _typed({DATE}, result=NUMBER), lambda node, values, env: Decimal(values[0].day)
    ),
    "days_between": Function(2, 2, _typed({DATE}, {DATE}, result=NUMBER), _days_between),
    "add_days": Function(2, 2, _typed({DATE}, {NUMBER}, result=DATE), _add_days),
    "add_months": Function(2, 2, _typed({DATE}, {NUMBER}, result=DATE), _add_months),
}
