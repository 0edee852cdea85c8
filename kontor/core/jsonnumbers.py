"""How custom values travel to and from the ``custom`` JSON column.

Numbers are JSON numbers, so the database compares and sorts them as numbers. Python
holds them as Decimal: the decoder reads every JSON float as Decimal, and the encoder
writes a Decimal as the float it equals. That is exact because cleaning bounds a
decimal to 15 significant digits, which a double's shortest repr always gives back
(``Decimal(repr(float(d))) == d``).
"""

import decimal
import json

from django.db import models
from django.db.models.fields.json import KeyTransform


class CustomValuesEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            return float(o)
        return super().default(o)


class CustomValuesDecoder(json.JSONDecoder):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parse_float", decimal.Decimal)
        super().__init__(*args, **kwargs)


_DECODER = CustomValuesDecoder()


class CustomValuesField(models.JSONField):
    """A JSON column of custom values, with the coders above.

    Django's JSONField builds a new decoder for every value it reads (``json.loads(value,
    cls=decoder)``), which costs more than decoding a record's values: this one reads
    with one shared decoder. Migrations see a plain JSONField (nothing in the schema
    differs).
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("encoder", CustomValuesEncoder)
        kwargs.setdefault("decoder", CustomValuesDecoder)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if not isinstance(value, str) or isinstance(expression, KeyTransform):
            return super().from_db_value(value, expression, connection)
        try:
            return _DECODER.decode(value)
        except json.JSONDecodeError:
            return value

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs
