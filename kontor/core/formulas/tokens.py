"""Source text to tokens. Anything not in the grammar is refused at its offset.

Names are ASCII only (field API names are slugs), so a homoglyph (Cyrillic "а") or an
invisible character in a name is an unexpected character, never a different field.
Text in quotes may hold any visible character; control, format (zero-width, bidi),
surrogate and unassigned code points are refused there too, so what the user sees
is what the formula holds.
"""

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from .errors import FormulaError
from .limits import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS, MAX_SOURCE

NUMBER, TEXT, NAME, OPERATOR, END = "number", "text", "name", "operator", "end"

_PAIRS = {"<=", ">=", "!="}
_SINGLES = set("+-*/%^&=<>(),")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_SPACE = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Token:
    type: str
    value: object
    position: int


def _is_letter(char: str) -> bool:
    return ("a" <= char <= "z") or ("A" <= char <= "Z")


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _unexpected(char: str, position: int) -> FormulaError:
    if unicodedata.category(char) in _HIDDEN_CATEGORIES | {"Zs"}:
        message = _("Unexpected invisible character U+%(code)04X.")
    else:
        message = _("Unexpected character “%(char)s” (U+%(code)04X).")
    return FormulaError(message % {"char": char, "code": ord(char)}, position)


def shown(token: Token) -> str:
    """A token as an error message quotes it: text in quotes, cut short."""
    if token.type != TEXT:
        return str(token.value)
    text = token.value if len(token.value) <= 20 else token.value[:20] + "…"
    return f'"{text}"'


def tokenize(source: str) -> list[Token]:
    if len(source) > MAX_SOURCE:
        raise FormulaError(
            _("A formula is at most %(limit)d characters long.") % {"limit": MAX_SOURCE},
            MAX_SOURCE,
        )
    tokens = []
    index, end = 0, len(source)
    while index < end:
        char = source[index]
        if char in _SPACE:
            index += 1
        elif _is_digit(char):
            token, index = _number(source, index)
            tokens.append(token)
        elif char == '"':
            token, index = _text(source, index)
            tokens.append(token)
        elif _is_letter(char):
            token, index = _name(source, index)
            tokens.append(token)
        else:
            operator = source[index : index + 2]
            if operator not in _PAIRS:
                if char not in _SINGLES:
                    raise _unexpected(char, index)
                operator = char
            tokens.append(Token(OPERATOR, operator, index))
            index += len(operator)
    tokens.append(Token(END, None, end))
    return tokens


def _number(source: str, start: int) -> tuple[Token, int]:
    index = start
    while index < len(source) and _is_digit(source[index]):
        index += 1
    integer_digits = len(source[start:index].lstrip("0"))
    fraction_digits = 0
    if index < len(source) and source[index] == ".":
        index += 1
        fraction_start = index
        while index < len(source) and _is_digit(source[index]):
            index += 1
        fraction_digits = index - fraction_start
        if not fraction_digits:
            raise FormulaError(_("Write digits after the decimal point."), index)
    if integer_digits > MAX_INTEGER_DIGITS or fraction_digits > MAX_FRACTION_DIGITS:
        raise FormulaError(
            _("A number has at most %(integer)d digits before the point and %(fraction)d after it.")
            % {"integer": MAX_INTEGER_DIGITS, "fraction": MAX_FRACTION_DIGITS},
            start,
        )
    if index < len(source) and (_is_letter(source[index]) or source[index] in "_."):
        raise _unexpected(source[index], index)
    return Token(NUMBER, Decimal(source[start:index]), start), index


def _text(source: str, start: int) -> tuple[Token, int]:
    parts = []
    index = start + 1
    while index < len(source):
        char = source[index]
        if char == '"':
            return Token(TEXT, "".join(parts), start), index + 1
        if char == "\\":
            escaped = source[index + 1 : index + 2]
            if escaped not in _ESCAPES:
                raise FormulaError(_('Unknown escape in text: write \\", \\\\, \\n or \\t.'), index)
            parts.append(_ESCAPES[escaped])
            index += 2
            continue
        if unicodedata.category(char) in _HIDDEN_CATEGORIES:
            raise FormulaError(
                _("Text in quotes cannot hold the invisible character U+%(code)04X.")
                % {"code": ord(char)},
                index,
            )
        parts.append(char)
        index += 1
    raise FormulaError(_("The text in quotes is not closed."), start)


def _name(source: str, start: int) -> tuple[Token, int]:
    """A name: segments of a letter then letters, digits or _, joined by dots."""
    index = start
    while True:
        index += 1
        while index < len(source) and (
            _is_letter(source[index]) or _is_digit(source[index]) or source[index] == "_"
        ):
            index += 1
        if index < len(source) and source[index] == ".":
            if index + 1 < len(source) and _is_letter(source[index + 1]):
                index += 1
                continue
            after = source[index + 1 : index + 2]
            raise (
                _unexpected(after, index + 1)
                if after
                else FormulaError(_("A name cannot end with a dot."), index)
            )
        return Token(NAME, source[start:index], start), index
