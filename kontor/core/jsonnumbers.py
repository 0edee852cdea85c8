"""How custom values travel to and from the ``custom`` JSON column.

Numbers are JSON numbers, so the database compares and sorts them as numbers. Python
holds them as Decimal: the decoder reads every JSON float as Decimal, and the encoder
writes a Decimal as the float it equals. That is exact because cleaning bounds a
decimal to 15 significant digits, which a double's shortest repr always gives back
(``Decimal(repr(float(d))) == d``).
"""

import decimal
import json


class CustomValuesEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            return float(o)
        return super().default(o)


class CustomValuesDecoder(json.JSONDecoder):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parse_float", decimal.Decimal)
        super().__init__(*args, **kwargs)
