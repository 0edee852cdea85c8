"""The kinds of custom field: how each cleans a typed value, stores it and shows it.

Stored forms (so that the database can filter and sort them): numbers as JSON numbers
(Decimal in Python, see kontor.core.jsonnumbers), dates as "YYYY-MM-DD", datetimes as
UTC "YYYY-MM-DDTHH:MM:SSZ", booleans as JSON booleans, choices as option keys, a
multiple choice as a list of keys, users and related records as integer ids, phones
in E.164. An empty value is never stored: the key is absent.
"""

from __future__ import annotations

import datetime
import decimal
import re

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import money, phones
from ..inputs import text_problem

# Integers every JSON reader (JavaScript included) holds exactly.
INTEGER_LIMIT = 2**53 - 1
# Significant digits a double gives back exactly (see kontor.core.jsonnumbers).
DECIMAL_DIGITS = 15
MONEY_PLACES = 4
TEXT_LIMIT = 1000
LONG_TEXT_LIMIT = 20_000
URL_LIMIT = 2000
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Kind(models.TextChoices):
    TEXT = "text", gettext_lazy("Text")
    LONG_TEXT = "long_text", gettext_lazy("Long text")
    INTEGER = "integer", gettext_lazy("Integer")
    DECIMAL = "decimal", gettext_lazy("Decimal number")
    MONEY = "money", gettext_lazy("Money")
    PERCENT = "percent", gettext_lazy("Percent")
    DATE = "date", gettext_lazy("Date")
    DATETIME = "datetime", gettext_lazy("Date and time")
    BOOLEAN = "boolean", gettext_lazy("Yes/no")
    CHOICE = "choice", gettext_lazy("Single choice")
    MULTIPLE_CHOICE = "multiple_choice", gettext_lazy("Multiple choice")
    URL = "url", gettext_lazy("Web address")
    EMAIL = "email", gettext_lazy("Email")
    PHONE = "phone", gettext_lazy("Phone")
    USER = "user", gettext_lazy("User")
    RELATION = "relation", gettext_lazy("Related record")
    # Computed from the record's other fields; its values are of its result kind
    # (``CustomField.value_kind``), kontor.core.customfields.computed.
    FORMULA = "formula", gettext_lazy("Formula")


TEXT_KINDS = {Kind.TEXT, Kind.LONG_TEXT, Kind.URL, Kind.EMAIL, Kind.PHONE}
DECIMAL_KINDS = {Kind.DECIMAL, Kind.MONEY, Kind.PERCENT}
ID_KINDS = {Kind.USER, Kind.RELATION}
# Compared as numbers by the database (PostgreSQL casts them to numeric).
NUMBER_KINDS = {Kind.INTEGER, *DECIMAL_KINDS, *ID_KINDS}
# Bounded by the value itself; text kinds by length, a multiple choice by count.
ORDERED_KINDS = {Kind.INTEGER, *DECIMAL_KINDS, Kind.DATE, Kind.DATETIME}
CHOICE_KINDS = {Kind.CHOICE, Kind.MULTIPLE_CHOICE}
# Kinds with a sortable, indexable single value (one index per field); a formula's
# results are of one of these.
INDEXED_KINDS = set(Kind) - {Kind.LONG_TEXT, Kind.MULTIPLE_CHOICE}
UNIQUE_KINDS = INDEXED_KINDS - {Kind.BOOLEAN, Kind.FORMULA}
# A formula's result kind (the language's) as the custom field kind it is stored as.
FORMULA_RESULT_KINDS = {
    "number": Kind.DECIMAL,
    "money": Kind.MONEY,
    "text": Kind.TEXT,
    "date": Kind.DATE,
    "boolean": Kind.BOOLEAN,
}
PATTERN_KINDS = {Kind.TEXT, Kind.LONG_TEXT}

# The definition's options that apply to some kinds only, the kinds of each, and the
# option's empty value (what a field of another kind holds).
OPTION_KINDS = {
    "choices": (CHOICE_KINDS, []),
    "formula": ({Kind.FORMULA}, ""),
    "currency": ({Kind.MONEY, Kind.FORMULA}, ""),
    "related_type": ({Kind.RELATION}, ""),
    "pattern": (PATTERN_KINDS, ""),
    "minimum": (ORDERED_KINDS | TEXT_KINDS | {Kind.MULTIPLE_CHOICE}, None),
    "maximum": (ORDERED_KINDS | TEXT_KINDS | {Kind.MULTIPLE_CHOICE}, None),
    "unique": (UNIQUE_KINDS, False),
    "default": (set(Kind) - ID_KINDS - {Kind.FORMULA}, None),
}

# Filter operators per kind: eq, text search, ranges, options, and emptiness.
_EMPTINESS = ("empty", "not_empty")
_RANGE = ("eq", "lt", "lte", "gt", "gte", "range", *_EMPTINESS)
OPERATORS = {
    Kind.TEXT: ("eq", "contains", "icontains", *_EMPTINESS),
    Kind.LONG_TEXT: ("contains", "icontains", *_EMPTINESS),
    Kind.URL: ("eq", "contains", "icontains", *_EMPTINESS),
    Kind.EMAIL: ("eq", "contains", "icontains", *_EMPTINESS),
    Kind.PHONE: ("eq", "contains", *_EMPTINESS),
    Kind.INTEGER: _RANGE,
    Kind.DECIMAL: _RANGE,
    Kind.MONEY: _RANGE,
    Kind.PERCENT: _RANGE,
    Kind.DATE: _RANGE,
    Kind.DATETIME: _RANGE,
    Kind.BOOLEAN: ("eq", *_EMPTINESS),
    Kind.CHOICE: ("eq", "in", *_EMPTINESS),
    Kind.MULTIPLE_CHOICE: ("has", *_EMPTINESS),
    Kind.USER: ("eq", "in", *_EMPTINESS),
    Kind.RELATION: ("eq", "in", *_EMPTINESS),
}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,16}")


def is_empty(value) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def _text(value, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."))
    value = value.strip()
    if problem := text_problem(value):
        raise ValidationError(problem)
    if len(value) > limit:
        raise ValidationError(_("Enter at most %(limit)d characters.") % {"limit": limit})
    return value


def whole_number(value) -> int:
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number."))
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        value = int(value)
    elif isinstance(value, decimal.Decimal | float) and value == int(value):
        value = int(value)
    if not isinstance(value, int):
        raise ValidationError(_("Enter a whole number."))
    if abs(value) > INTEGER_LIMIT:
        raise ValidationError(
            _("Enter a number between -%(limit)d and %(limit)d.") % {"limit": INTEGER_LIMIT}
        )
    return value


def _decimal(value, places: int | None = None) -> decimal.Decimal:
    if isinstance(value, bool):
        raise ValidationError(_("Enter a number."))
    try:
        number = decimal.Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        raise ValidationError(_("Enter a number.")) from None
    if not number.is_finite():
        raise ValidationError(_("Enter a number."))
    number = number.normalize()
    _sign, digits, exponent = number.as_tuple()
    # Digits written out in fixed point: at most 15 comes back exactly from a double.
    if max(len(digits) + exponent, 0) + max(-exponent, 0) > DECIMAL_DIGITS:
        raise ValidationError(
            _("Enter a number with at most %(digits)d digits.") % {"digits": DECIMAL_DIGITS}
        )
    if places is not None and -exponent > places:
        raise ValidationError(
            _("Enter a number with at most %(places)d decimal places.") % {"places": places}
        )
    return number


def _date(value) -> str:
    if isinstance(value, datetime.datetime):
        raise ValidationError(_("Enter a date."))
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        parsed = parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError(_("Enter a date as YYYY-MM-DD."))
    return parsed.isoformat()


def _datetime(value) -> str:
    parsed = value if isinstance(value, datetime.datetime) else None
    if parsed is None and isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError(_("Enter a date and time as YYYY-MM-DDTHH:MM."))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed.astimezone(datetime.UTC).strftime(DATETIME_FORMAT)


def _boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(_("Enter yes or no."))


def _choice_key(field, value) -> str:
    keys = {c["key"] for c in field.choices}
    if not isinstance(value, str) or value not in keys:
        raise ValidationError(_("Pick one of the options."))
    return value


def _choice_keys(field, value) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple):
        raise ValidationError(_("Pick one or more of the options."))
    picked = {_choice_key(field, v) for v in values}
    # Stored in the options' order, so equal picks are equal lists.
    return [c["key"] for c in field.choices if c["key"] in picked]


def _url(value) -> str:
    value = _text(value, URL_LIMIT)
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise ValidationError(_("Enter a web address starting with http:// or https://.")) from None
    return value


def _email(value) -> str:
    value = _text(value, 254)
    try:
        EmailValidator()(value)
    except ValidationError:
        raise ValidationError(_("Enter a valid email address.")) from None
    return value


def _phone(value) -> str:
    parsed = phones.parse(_text(value, 64))
    if parsed is None:
        raise ValidationError(_("Enter a phone number, e.g. +7 916 123-45-67."))
    if parsed.extension:
        raise ValidationError(_("Enter the number without an extension."))
    return parsed.e164


def _id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(_("Enter a record id."))
    text = str(value).strip()
    if not text.isdigit() or not 0 < int(text) <= INTEGER_LIMIT:
        raise ValidationError(_("Enter a record id."))
    return int(text)


def convert(field, value):
    """``value`` (as typed, or as JSON gives it) in its stored form, else ValidationError.

    Only the form: bounds, pattern, existence of ids and uniqueness are the caller's
    (kontor.core.customfields.values).
    """
    kind = field.value_kind
    if kind == Kind.TEXT:
        return _text(value, TEXT_LIMIT)
    if kind == Kind.LONG_TEXT:
        return _text(value, LONG_TEXT_LIMIT)
    if kind == Kind.INTEGER:
        return whole_number(value)
    if kind == Kind.MONEY:
        return _decimal(value, MONEY_PLACES)
    if kind in DECIMAL_KINDS:
        return _decimal(value)
    if kind == Kind.DATE:
        return _date(value)
    if kind == Kind.DATETIME:
        return _datetime(value)
    if kind == Kind.BOOLEAN:
        return _boolean(value)
    if kind == Kind.CHOICE:
        return _choice_key(field, value)
    if kind == Kind.MULTIPLE_CHOICE:
        return _choice_keys(field, value)
    if kind == Kind.URL:
        return _url(value)
    if kind == Kind.EMAIL:
        return _email(value)
    if kind == Kind.PHONE:
        return _phone(value)
    if kind in ID_KINDS:
        return _id(value)
    raise ValidationError(_("Unknown field kind."))


def measure(field, value):
    """What min/max bound: the value, its length, or how many options are picked."""
    if field.value_kind in ORDERED_KINDS:
        return value
    return len(value)


def check_bounds(field, value) -> None:
    if field.kind in {Kind.BOOLEAN, Kind.CHOICE, Kind.FORMULA, *ID_KINDS}:
        return
    measured = measure(field, value)
    shown = {"minimum": field.minimum, "maximum": field.maximum}
    if field.kind in ORDERED_KINDS:
        low = None if field.minimum is None else convert(field, field.minimum)
        high = None if field.maximum is None else convert(field, field.maximum)
        if low is not None and measured < low:
            raise ValidationError(_("Enter a value of at least %(minimum)s.") % shown)
        if high is not None and measured > high:
            raise ValidationError(_("Enter a value of at most %(maximum)s.") % shown)
        return
    if field.minimum is not None and measured < field.minimum:
        if field.kind == Kind.MULTIPLE_CHOICE:
            raise ValidationError(_("Pick at least %(minimum)s options.") % shown)
        raise ValidationError(_("Enter at least %(minimum)s characters.") % shown)
    if field.maximum is not None and measured > field.maximum:
        if field.kind == Kind.MULTIPLE_CHOICE:
            raise ValidationError(_("Pick at most %(maximum)s options.") % shown)
        raise ValidationError(_("Enter at most %(maximum)s characters.") % shown)


def to_python(field, stored):
    """The stored value as Python: dates and datetimes as objects, the rest as stored."""
    if stored is None:
        return None
    if field.value_kind == Kind.DATE:
        return datetime.date.fromisoformat(stored)
    if field.value_kind == Kind.DATETIME:
        return datetime.datetime.strptime(stored, DATETIME_FORMAT).replace(tzinfo=datetime.UTC)
    return stored


def display(field, stored) -> str:
    """The value as a person reads it (lists, detail pages, exports): localized, labelled.

    Users and related records are shown by id here; the caller that knows the reader
    names them (a related record only if the reader may see it).
    """
    if is_empty(stored):
        return ""
    kind = field.value_kind
    if kind == Kind.INTEGER:
        return formats.number_format(stored, use_l10n=True, force_grouping=True)
    if kind in DECIMAL_KINDS:  # kept as a JSON number: 8 may come back as 8.0
        number = decimal.Decimal(repr(stored) if isinstance(stored, float) else str(stored))
        if kind == Kind.MONEY:
            return money.format_money(number, field.currency)
        return (
            money.format_percent(number) if kind == Kind.PERCENT else money.format_quantity(number)
        )
    if kind == Kind.DATE:
        return formats.date_format(to_python(field, stored), "SHORT_DATE_FORMAT")
    if kind == Kind.DATETIME:
        return formats.date_format(
            timezone.localtime(to_python(field, stored)), "SHORT_DATETIME_FORMAT"
        )
    if kind == Kind.BOOLEAN:
        return _("Yes") if stored else _("No")
    if kind in CHOICE_KINDS:
        labels = {c["key"]: c["label"] for c in field.choices}
        keys = stored if isinstance(stored, list) else [stored]
        return ", ".join(labels.get(k, k) for k in keys)
    if kind == Kind.PHONE:
        return phones.pretty(stored)
    if kind in ID_KINDS:
        return f"#{stored}"
    return str(stored)
