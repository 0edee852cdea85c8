"""Tokens to a tree, by precedence climbing; depth and size are refused as the tree grows.

Precedence, loosest first: or; and; not; comparisons (not chained); &; + -; * / %;
unary -; ^ (right-associative, so 2^3^2 is 2^9 and -2^2 is -4); calls and parentheses.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from .errors import FormulaError
from .functions import FUNCTIONS
from .limits import MAX_DEPTH, MAX_NODES
from .tokens import END, NAME, NUMBER, OPERATOR, TEXT, Token, shown

COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}
_INFIX = {
    "or": 1,
    "and": 2,
    **dict.fromkeys(COMPARISONS, 4),
    "&": 5,
    "+": 6,
    "-": 6,
    "*": 7,
    "/": 7,
    "%": 7,
    "^": 9,
}
_NOT_OPERAND = 3
_NEGATION_OPERAND = 8
KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null"})


@dataclass(slots=True)
class Node:
    """``op``: literal, name, call, negate, not, and, or, compare, or an arithmetic operator
    (+ - * / % ^ &). ``position`` is the offset errors point at (the operator, the
    function's name), ``start`` where the part's text begins."""

    op: str
    position: int
    start: int
    value: object = None
    args: tuple["Node", ...] = ()
    depth: int = 1
    kind: str = ""


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0
        self.nodes = 0
        self.nesting = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def keyword(self, token: Token) -> str | None:
        if token.type == NAME and token.value.lower() in KEYWORDS:
            return token.value.lower()
        return None

    def node(self, op, position, start, value=None, args=()) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FormulaError(
                _("A formula has at most %(limit)d values, operators and calls.")
                % {"limit": MAX_NODES},
                position,
            )
        depth = 1
        for arg in args:
            depth = max(depth, arg.depth + 1)
        if depth > MAX_DEPTH:
            raise _too_deep(position)
        return Node(op, position, start, value, tuple(args), depth)

    def expect(self, operator: str) -> Token:
        token = self.take()
        if token.type != OPERATOR or token.value != operator:
            raise FormulaError(
                _("Expected “%(token)s” here.") % {"token": operator}, token.position
            )
        return token

    def infix(self, token: Token) -> str | None:
        if token.type == OPERATOR and token.value in _INFIX:
            return token.value
        word = self.keyword(token)
        return word if word in ("and", "or") else None

    def expression(self, minimum: int = 0) -> Node:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise _too_deep(self.peek().position)
        left = self.prefix()
        compared = False
        while (operator := self.infix(self.peek())) and _INFIX[operator] >= minimum:
            token = self.take()
            if operator in COMPARISONS:
                if compared:
                    raise FormulaError(
                        _("Comparisons cannot be chained: join them with and."), token.position
                    )
                compared = True
            power = _INFIX[operator]
            right = self.expression(power if operator == "^" else power + 1)
            op = "compare" if operator in COMPARISONS else operator
            left = self.node(op, token.position, left.start, operator, (left, right))
        self.nesting -= 1
        return left

    def prefix(self) -> Node:
        token = self.take()
        word = self.keyword(token)
        if token.type == OPERATOR and token.value == "-":
            operand = self.expression(_NEGATION_OPERAND)
            return self.node("negate", token.position, token.position, "-", (operand,))
        if word == "not":
            operand = self.expression(_NOT_OPERAND)
            return self.node("not", token.position, token.position, "not", (operand,))
        if token.type == OPERATOR and token.value == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.type in (NUMBER, TEXT):
            return self.node("literal", token.position, token.position, token.value)
        if word in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[word]
            return self.node("literal", token.position, token.position, value)
        if token.type == NAME and not word:
            following = self.peek()
            if following.type == OPERATOR and following.value == "(":
                return self.call(token)
            return self.node("name", token.position, token.position, token.value)
        if token.type == END:
            raise FormulaError(_("The formula ends where a value is expected."), token.position)
        raise FormulaError(
            _("Expected a value, not “%(token)s”.") % {"token": shown(token)}, token.position
        )

    def call(self, name: Token) -> Node:
        function = name.value.lower()
        if function not in FUNCTIONS:
            raise FormulaError(
                _("Unknown function “%(name)s”.") % {"name": name.value}, name.position
            )
        self.take()
        args = []
        if not (self.peek().type == OPERATOR and self.peek().value == ")"):
            args.append(self.expression())
            while self.peek().type == OPERATOR and self.peek().value == ",":
                self.take()
                args.append(self.expression())
        self.expect(")")
        FUNCTIONS[function].check_count(len(args), name.position)
        return self.node("call", name.position, name.position, function, args)


def _too_deep(position: int) -> FormulaError:
    return FormulaError(
        _("A formula nests at most %(limit)d levels deep.") % {"limit": MAX_DEPTH}, position
    )


def parse(tokens: list[Token]) -> Node:
    parser = _Parser(tokens)
    if parser.peek().type == END:
        raise FormulaError(_("The formula is empty."), 0)
    tree = parser.expression()
    extra = parser.peek()
    if extra.type != END:
        raise FormulaError(
            _("Unexpected “%(token)s”: an operator or the end is expected here.")
            % {"token": shown(extra)},
            extra.position,
        )
    return tree
