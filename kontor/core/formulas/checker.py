"""The kind of every part of a formula, checked before it ever runs: an unknown field, a
function given the wrong kind, text multiplied by a number are refused at their offset."""

from django.utils.translation import gettext as _

from .errors import FormulaError
from .functions import (
    ANY,
    BOOLEAN,
    DATE,
    FUNCTIONS,
    MONEY,
    NULL,
    NUMBER,
    NUMERIC,
    TEXT,
    require,
    unify,
)
from .parser import Node

_LITERAL_KINDS = {bool: BOOLEAN, str: TEXT, type(None): NULL}
_ORDERED = NUMERIC | {DATE, TEXT}


def infer(node: Node, schema: dict[str, str]) -> str:
    """Sets ``kind`` on ``node`` and every part under it; returns the node's kind."""
    for arg in node.args:
        infer(arg, schema)
    node.kind = _kind(node, schema)
    return node.kind


def _kind(node: Node, schema: dict[str, str]) -> str:
    op, args = node.op, node.args
    if op == "literal":
        return _LITERAL_KINDS.get(type(node.value), NUMBER)
    if op == "name":
        if node.value not in schema:
            raise FormulaError(_("Unknown field “%(name)s”.") % {"name": node.value}, node.position)
        return schema[node.value]
    if op == "call":
        return FUNCTIONS[node.value].kind(node.value + "()", args)
    if op in ("not", "and", "or"):
        for arg in args:
            require(node.value, arg, {BOOLEAN})
        return BOOLEAN
    if op == "compare":
        unify(node.value, args, ANY if node.value in ("=", "!=") else _ORDERED)
        return BOOLEAN
    if op == "&":
        return TEXT
    if op == "negate":
        require("-", args[0], NUMERIC)
        return args[0].kind
    if op == "^":
        require("^", args[0], NUMERIC)
        require("^", args[1], {NUMBER})
        return args[0].kind
    if op == "/":
        left, right = (arg.kind for arg in args)
        unify("/", args, NUMERIC)
        if left == MONEY and right != MONEY:
            return MONEY
        return NULL if left == right == NULL else NUMBER
    return unify(op, args, NUMERIC)
