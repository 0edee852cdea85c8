"""The formula language: every operator and function, precedence, empties, kinds, money
rounding, limits at their edges, and errors with their place, in every language."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from kontor.core import formulas
from kontor.core.formulas import limits

D = Decimal
TODAY = datetime.date(2026, 3, 15)
SCHEMA = {
    "amount": "money",
    "price": "money",
    "zero": "integer",
    "quantity": "integer",
    "rate": "percent",
    "ratio": "decimal",
    "name": "text",
    "notes": "long_text",
    "email": "email",
    "stage": "choice",
    "blank": "text",
    "due": "date",
    "created": "datetime",
    "vip": "boolean",
    "missing": "number",
    "missing_flag": "boolean",
    "missing_date": "date",
    "company.name": "text",
}
VALUES = {
    "amount": D("2.345"),
    "price": D("19.99"),
    "zero": 0,
    "quantity": 3,
    "rate": D("12.5"),
    "ratio": D("0.5"),
    "name": "  Anna Petrova ",
    "notes": "x" * 20_000,
    "email": "anna@example.com",
    "stage": "won",
    "blank": "   ",
    "due": datetime.date(2026, 1, 31),
    "created": datetime.datetime(2026, 3, 14, 22, 30, tzinfo=datetime.UTC),
    "vip": True,
    "company.name": "Acme",
}


def value(source: str, values=VALUES, today=TODAY):
    return formulas.compile(source, SCHEMA).evaluate(values, today=today)


def refused(source: str, values=VALUES) -> formulas.FormulaError:
    with pytest.raises(formulas.FormulaError) as caught:
        formulas.compile(source, SCHEMA).evaluate(values, today=TODAY)
    return caught.value


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Arithmetic and precedence.
        ("1 + 2 * 3", D(7)),
        ("(1 + 2) * 3", D(9)),
        ("10 - 4 - 3", D(3)),
        ("100 / 10 / 5", D(2)),
        ("7 % 3", D(1)),
        ("-7 % 3", D(2)),
        ("7 % -3", D(-2)),
        ("7.5 % 2", D("1.5")),
        ("2 ^ 3 ^ 2", D(512)),
        ("-2 ^ 2", D(-4)),
        ("(-2) ^ 2", D(4)),
        ("2 ^ -2", D("0.25")),
        ("0 ^ 0", D(1)),
        ("0 ^ 3", D(0)),
        ("1.01 ^ 360", D("35.94964132768492056269881790400360")),
        ("2 * -3", D(-6)),
        ("- -3", D(3)),
        ("1 + 2 & 3", "33"),
        ("1 / 3", D("0.3333333333333333333333333333333333")),
        ("0.1 + 0.2", D("0.3")),
        ("999999999999999999 + 0", D("999999999999999999")),
        ("quantity * ratio", D("1.5")),
        # Comparison and logic.
        ("1 < 2 and 2 <= 2 and 3 > 2 and 3 >= 3 and 1 != 2 and 1 = 1.0", True),
        ("1 + 1 = 2", True),
        ('"b" > "a"', True),
        ('"a" = "A"', False),
        ("due < date(2026, 2, 1)", True),
        ("vip = true", True),
        ("amount > 2", True),
        ("not 1 = 2", True),
        ("not true or true", True),
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("TRUE And Not FALSE", True),
        # Short-circuit: the division by zero is never reached.
        ("vip or 1 / zero > 0", True),
        ("not vip and 1 / zero > 0", False),
        ("if(vip, 1, 1 / zero)", D(1)),
        ("IF(not vip, 1 / zero, 2)", D(2)),
        # Text.
        ('"a\\"b\\\\c\\n\\t"', 'a"b\\c\n\t'),
        ('company.name & " / " & stage', "Acme / won"),
        ('concat("a", 1, true, null, due)', "a1true2026-01-31"),
        ("len(name)", D(15)),
        ("upper(trim(name))", "ANNA PETROVA"),
        ("lower(company.name)", "acme"),
        ("trim(name)", "Anna Petrova"),
        ("left(trim(name), 4)", "Anna"),
        ("right(trim(name), 7)", "Petrova"),
        ("right(email, 0)", ""),
        ("left(email, 100)", "anna@example.com"),
        ("right(email, 100)", "anna@example.com"),
        ("left(email, 0)", ""),
        ('contains(email, "@example")', True),
        ('contains(email, "EXAMPLE")', False),
        ("text(amount)", "2.35"),
        ("text(ratio)", "0.5"),
        ("text(2 ^ 20)", "1048576"),
        ("text(round(1234, -2))", "1200"),
        ("text(due)", "2026-01-31"),
        ("text(vip)", "true"),
        ("text(missing)", ""),
        ("len(notes)", D(20_000)),
        # Numbers.
        ("round(2.345, 2)", D("2.35")),
        ("round(2.5)", D(3)),
        ("round(-2.5)", D(-3)),
        ("round(0.125, 2)", D("0.13")),
        ("round(1234.5, -2)", D(1200)),
        ("floor(2.7)", D(2)),
        ("floor(-2.2)", D(-3)),
        ("ceil(2.2)", D(3)),
        ("ceil(-2.7)", D(-2)),
        ("abs(-4.5)", D("4.5")),
        ("min(3, 1, 2)", D(1)),
        ("max(3, 1, 2)", D(3)),
        ("min(missing, 5)", D(5)),
        ('max("pear", "apple")', "pear"),
        ("min(due, date(2025, 1, 1))", datetime.date(2025, 1, 1)),
        # Dates.
        ("today()", TODAY),
        ("date(2024, 2, 29)", datetime.date(2024, 2, 29)),
        ("year(due) * 10000 + month(due) * 100 + day(due)", D(20260131)),
        ("days_between(due, today())", D(43)),
        ("days_between(today(), due)", D(-43)),
        ("add_days(due, 1)", datetime.date(2026, 2, 1)),
        ("add_days(due, -31)", datetime.date(2025, 12, 31)),
        ("add_months(due, 1)", datetime.date(2026, 2, 28)),
        ("add_months(date(2024, 1, 31), 1)", datetime.date(2024, 2, 29)),
        ("add_months(due, -13)", datetime.date(2024, 12, 31)),
        ("add_months(due, 11)", datetime.date(2026, 12, 31)),
        # Empties.
        ("missing + 1", None),
        ("-missing", None),
        ("round(missing, 2)", None),
        ("len(blank)", D(3)),
        ("upper(company.name) & missing", "ACME"),
        ("missing = null", True),
        ("missing != null", False),
        ("quantity = null", False),
        ("quantity != missing", True),
        ("missing < 1", False),
        ("missing >= 1", False),
        ("not missing_flag", True),
        ("missing_flag or vip", True),
        ("missing_flag and vip", False),
        ("if(missing_flag, 1, 2)", D(2)),
        ("is_empty(missing)", True),
        ("is_empty(blank)", True),
        ("is_empty(name)", False),
        ("is_empty(0)", False),
        ("coalesce(missing, quantity)", D(3)),
        ("coalesce(blank, company.name)", "Acme"),
        ("coalesce(missing_date, due)", datetime.date(2026, 1, 31)),
        ("add_days(missing_date, 3)", None),
        ("year(missing_date)", None),
        ("max(missing, null)", None),
        ("if(vip, null, 1)", None),
    ],
)
def test_value(source, expected):
    result = value(source)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "kind", "expected"),
    [
        # Money is rounded half-up to the cent once, at the end (banker's: 2.34).
        ("amount", "money", D("2.35")),
        # Money stays money through arithmetic with numbers, in either order.
        ("price * quantity", "money", D("59.97")),
        ("quantity * price", "money", D("59.97")),
        ("price * (100 - rate) / 100", "money", D("17.49")),
        ("price / 3", "money", D("6.66")),
        ("price + 1", "money", D("20.99")),
        ("-price", "money", D("-19.99")),
        ("price ^ 2", "money", D("399.60")),
        # A ratio of amounts, or a count of them, is a number.
        ("price / price", "number", D(1)),
        ("100 / price", "number", D("5.002501250625312656328164082041021")),
        # Functions keep the kind of what they are given.
        ("abs(-amount)", "money", D("2.35")),
        ("if(vip, price, 0)", "money", D("19.99")),
        ("coalesce(missing, price)", "money", D("19.99")),
        ("round(amount, 1)", "money", D("2.30")),
        ("price > 10", "boolean", True),
        ("text(price)", "text", "19.99"),
        ("due", "date", datetime.date(2026, 1, 31)),
        ("quantity", "number", D(3)),
    ],
)
def test_kind_and_money_rounding(source, kind, expected):
    formula = formulas.compile(source, SCHEMA)
    assert formula.kind == kind
    result = formula.evaluate(VALUES, today=TODAY)
    assert result == expected and type(result) is type(expected)
    if kind == "money":
        assert result.as_tuple().exponent == -2


def test_half_up_where_python_rounds_to_even():
    assert round(D("2.345"), 2) == D("2.34")  # Python's own: banker's
    assert value("round(2.345, 2)") == D("2.35")
    assert value("round(amount, 2)") == D("2.35")
    assert value("amount", {"amount": D("0.005")}) == D("0.01")
    assert value("amount", {"amount": D("-0.005")}) == D("-0.01")


def test_names_today_and_related_fields():
    formula = formulas.compile("if(vip, company.name, stage) & text(today())", SCHEMA)
    assert formula.names == {"vip", "company.name", "stage"}
    assert formula.reads_today
    assert formula.kind == "text"
    assert not formulas.compile("price * 2", SCHEMA).reads_today
    assert "price * 2" in repr(formulas.compile("price * 2", SCHEMA))


def test_today_defaults_to_the_local_date():
    formula = formulas.compile("today()", SCHEMA)
    assert formula.evaluate({}) == timezone.localdate()


def test_a_moment_reads_as_its_local_date():
    # 22:30 UTC on the 14th is the 15th in Moscow.
    with timezone.override("Europe/Moscow"):
        assert value("created") == datetime.date(2026, 3, 15)
    with timezone.override("UTC"):
        assert value("created") == datetime.date(2026, 3, 14)
    naive = {"created": datetime.datetime(2026, 3, 14, 23, 0)}
    assert value("created", naive) == datetime.date(2026, 3, 14)


def test_a_field_may_be_named_like_a_function():
    formula = formulas.compile("year(date) + len(text)", {"date": "date", "text": "text"})
    assert formula.evaluate({"date": datetime.date(2026, 1, 1), "text": "ab"}) == 2028


def test_names_left_out_are_empty():
    assert value("price * quantity", {}) is None
    assert value("concat(name, stage)", {}) == ""


def test_wrong_python_values_are_the_callers_mistake():
    with pytest.raises(TypeError):
        value("quantity + 1", {"quantity": 1.5})
    with pytest.raises(TypeError):
        value("quantity + 1", {"quantity": True})
    with pytest.raises(TypeError):
        value("len(name)", {"name": 3})
    with pytest.raises(TypeError):
        value("year(due)", {"due": "2026-01-01"})
    with pytest.raises(TypeError):
        value("not vip", {"vip": 1})
    with pytest.raises(ValueError, match="relation"):
        formulas.compile("1", {"company": "relation"})


def test_a_number_value_beyond_the_bound_is_refused():
    error = refused("1 + quantity", {"quantity": 10**18})
    assert error.position == 4


def test_constant_parts_are_computed_once_when_compiled():
    # An error in a part that reads no field refuses the formula, whichever branch runs.
    with pytest.raises(formulas.FormulaError):
        formulas.compile("if(vip, 1, 1 / 0)", SCHEMA)
    assert formulas.compile("2 ^ 10 * quantity", SCHEMA).evaluate({"quantity": 2}) == 2048


@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ("price + nme", 8, "Unknown field “nme”."),
        ("1 +\n  nme", 6, "Unknown field “nme”."),
        ("price * name", 8, "“*” cannot take a value of kind “text”."),
        ("upper(price)", 6, "“upper()” cannot take a value of kind “money”."),
        ("if(vip, 1, name)", 11, "“if()” cannot mix “number” with “text”."),
        ('1 = "1"', 4, "“=” cannot mix “number” with “text”."),
        ("vip < true", 0, "“<” cannot take a value of kind “yes/no”."),
        ("vip and 1", 8, "“and” cannot take a value of kind “number”."),
        ("if(1, 2, 3)", 3, "“if()” cannot take a value of kind “number”."),
        ("round(price, price)", 13, "“round()” cannot take a value of kind “money”."),
        ("price ^ price", 8, "“^” cannot take a value of kind “money”."),
        ("left(name)", 0, "This function takes 2 arguments."),
        ("today(1)", 0, "This function takes 0 arguments."),
        ("round()", 0, "This function takes 1 to 2 arguments."),
        ("coalesce(1)", 0, "This function takes at least 2 arguments."),
        ("frobnicate(1)", 0, "Unknown function “frobnicate”."),
        ("(1 + 2", 6, "Expected “)” here."),
        ("1 +", 3, "The formula ends where a value is expected."),
        ('1 "abcdefghijklmnopqrstuvwxyz"', 2, 'Unexpected “"abcdefghijklmnopqrst…"”: an operator'),
        ("a\u200bb", 1, "Unexpected invisible character U+200B."),
    ],
)
def test_errors_say_what_and_where(source, position, message):
    error = refused(source)
    assert error.position == position
    assert error.message.startswith(message)


def test_line_and_column():
    error = refused("price *\n  2 +\n\tnme")
    assert (error.position, error.line, error.column) == (15, 3, 2)
    assert str(error) == "Unknown field “nme”. (3:2)"
    assert refused("1 / zero").column == 3


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("ru", "Неизвестное поле «nme»."),
        ("fr", "Champ inconnu « nme »."),
    ],
)
def test_errors_are_translated(language, message):
    with translation.override(language):
        assert refused("nme").message == message
        assert refused("1 / 0").message != "Division by zero."


# -- limits at their edges ---------------------------------------------------------------


def test_source_length():
    longest = "1" + " " * (limits.MAX_SOURCE - 1)
    assert value(longest) == 1
    assert refused(longest + " ").position == limits.MAX_SOURCE


def test_depth():
    deepest = "abs(" * (limits.MAX_DEPTH - 1) + "1" + ")" * (limits.MAX_DEPTH - 1)
    assert value(deepest) == 1
    assert "40 levels" in refused("abs(" + deepest + ")").message
    assert value("+".join(["1"] * limits.MAX_DEPTH)) == limits.MAX_DEPTH
    assert "40 levels" in refused("+".join(["1"] * (limits.MAX_DEPTH + 1))).message


def test_node_count():
    widest = "concat(" + ",".join(["1"] * (limits.MAX_NODES - 1)) + ")"
    assert value(widest) == "1" * (limits.MAX_NODES - 1)
    assert "500" in refused(widest.replace("(", "(1,", 1)).message


def test_number_bounds():
    assert value("999999999999999999.9999999999") == D("999999999999999999.9999999999")
    assert value("2 ^ -1000") > 0
    assert value("1.0001 ^ 1000") == D("1.105165392603232697240184240109059")
    assert "too large" in refused("999999999999999999.9999999999 + 1").message
    assert "too large" in refused("-999999999999999999 - 1").message


def test_text_bounds():
    limit = limits.MAX_TEXT
    assert len(value(f"left(notes, {limit})")) == limit
    assert len(value(f'left(notes, {limit - 1}) & "y"')) == limit
    assert "10000" in refused(f'left(notes, {limit}) & "y"').message
    assert "10000" in refused(f"left(notes, {limit + 1})").message


def test_text_work_budget():
    # Each search reads the 20,000 characters of notes (and its one-letter needle).
    within = limits.MAX_TEXT_WORK // 20_001
    searches = "concat({})"
    assert value(searches.format(", ".join(['contains(notes, "a")'] * within))) == "false" * within
    error = refused(searches.format(", ".join(['contains(notes, "a")'] * (within + 1))))
    assert "too much text" in error.message
