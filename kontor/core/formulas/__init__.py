"""Formulas: a small expression language over a record's fields (docs/formulas.md).

``compile(source, schema)`` checks a formula against the names it may read and their
kinds and gives a ``Formula``; ``Formula.evaluate(values)`` computes it for one record.
Every refusal, at either step, is a ``FormulaError`` with the offending offset.
"""

import datetime
from collections.abc import Mapping

from django.utils import timezone
from django.utils.translation import gettext as _

from ..money import round_cents
from .checker import infer
from .errors import FormulaError
from .evaluate import Closure, build
from .functions import BOOLEAN, DATE, MONEY, NULL, NUMBER, TEXT, Env, check_length
from .parser import KEYWORDS, Node, parse
from .tokens import tokenize

__all__ = ["KEYWORDS", "SCHEMA_KINDS", "Formula", "FormulaError", "compile"]

# The kinds a schema may name: the language's own and the custom field kinds they read
# as (a choice as its option key, a moment as its date in the current time zone).
SCHEMA_KINDS = {
    NUMBER: NUMBER,
    "integer": NUMBER,
    "decimal": NUMBER,
    "percent": NUMBER,
    MONEY: MONEY,
    TEXT: TEXT,
    "long_text": TEXT,
    "url": TEXT,
    "email": TEXT,
    "phone": TEXT,
    "choice": TEXT,
    DATE: DATE,
    "datetime": DATE,
    BOOLEAN: BOOLEAN,
}


class Formula:
    """A compiled formula. ``kind``: number, money, text, date or boolean; ``names``: the
    schema names it reads (what a caller fetches); ``reads_today``: whether its result
    changes with the date."""

    __slots__ = ("source", "kind", "names", "reads_today", "_run", "_position")

    def __init__(self, source: str, tree: Node, run: Closure, names: frozenset[str], today: bool):
        self.source = source
        self.kind = tree.kind
        self.names = names
        self.reads_today = today
        self._run = run
        self._position = tree.start

    def __repr__(self) -> str:
        return f"<Formula {self.kind}: {self.source!r}>"

    def evaluate(self, values: Mapping[str, object], *, today: datetime.date | None = None):
        """The result for one record's ``values`` (a name left out is empty): a Decimal
        (money rounded half-up to the cent), str, bool, date, or None when empty."""
        if today is None and self.reads_today:
            today = timezone.localdate()
        try:
            result = self._run(Env(values, today))
            if result is not None and self.kind == MONEY:
                return round_cents(result)
            if self.kind == TEXT and result is not None:
                check_length(len(result), self._position)
        except FormulaError as error:
            raise error.locate(self.source) from None
        return result


def compile(source: str, schema: Mapping[str, str]) -> Formula:
    """``source`` checked against ``schema`` (name -> kind, see ``SCHEMA_KINDS``)."""
    unknown = {kind for kind in schema.values() if kind not in SCHEMA_KINDS}
    if unknown:
        raise ValueError(f"formula schema kinds not readable by formulas: {sorted(unknown)}")
    kinds = {name: SCHEMA_KINDS[kind] for name, kind in schema.items()}
    try:
        tree = parse(tokenize(source))
        if infer(tree, kinds) == NULL:
            raise FormulaError(_("The formula always gives an empty value."), tree.start)
        run, _constant = build(tree)
    except FormulaError as error:
        raise error.locate(source) from None
    names, today = _reads(tree)
    return Formula(source, tree, run, frozenset(names), today)


def _reads(tree: Node) -> tuple[set[str], bool]:
    names, today, pending = set(), False, [tree]
    while pending:
        node = pending.pop()
        if node.op == "name":
            names.add(node.value)
        today = today or (node.op == "call" and node.value == "today")
        pending.extend(node.args)
    return names, today
