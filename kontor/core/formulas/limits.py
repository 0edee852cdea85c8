"""What one formula may cost: each limit is refused with its own error, before the work."""

# Characters of source text.
MAX_SOURCE = 2000
# Levels of the parsed tree (parentheses, calls, operators): evaluation recurses once per level.
MAX_DEPTH = 40
# Values, operators and calls in one formula.
MAX_NODES = 500
# Digits of a number literal before and after the point.
MAX_INTEGER_DIGITS = 18
MAX_FRACTION_DIGITS = 10
# Every number a formula holds stays below 10^18 (money up to 999,999,999,999.99 times
# a quantity or a rate fits); the decimal context keeps 34 significant digits.
MAX_ADJUSTED_EXPONENT = 17
# ^ takes a whole exponent within ±1000 (1.01^360 is a loan over 30 years of months).
MAX_EXPONENT = 1000
# Characters of any text a formula builds, and of its result.
MAX_TEXT = 10_000
# Characters of text an evaluation may read or write in all (joining, searching, casing,
# comparing): a formula reading a 20,000-character field 500 times stops here.
MAX_TEXT_WORK = 1_000_000
# Places round() may keep, and the most it may round away (round(x, -12): trillions).
MAX_ROUND_PLACES = 10
MIN_ROUND_PLACES = -12
