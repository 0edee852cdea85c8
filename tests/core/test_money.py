"""Money: parsing amounts, a line's net and a document's VAT breakdown, to the cent.

The cases are those naive arithmetic gets wrong: floats (1.50 at 7 % is 0.105, which a
float holds as 0.10499…), per-line VAT rounding, banker's rounding of a half cent.
"""

import os
import subprocess
import sys
from decimal import Decimal, localcontext

import pytest
from django.utils import translation

from kontor.core import money
from kontor.core.errors import ValidationFailed

D = Decimal


def refused(call, *args, **kwargs) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        call(*args, **kwargs)
    return caught.value.errors


# -- parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, amount",
    [
        ("12", D("12.00")),
        ("12.5", D("12.50")),
        ("0,35", D("0.35")),
        ("1 234,50", D("1234.50")),
        ("1\u00a0234.50", D("1234.50")),
        ("1'234.50", D("1234.50")),
        (" 7 ", D("7.00")),
        (".5", D("0.50")),
        ("12.", D("12.00")),
        ("1.230", D("1.23")),  # a trailing zero is not a third decimal
        (D("0.1"), D("0.10")),
        (15, D("15.00")),
        ("999999999999.99", money.MAX_AMOUNT),
    ],
)
def test_parse_amount_reads_what_people_type(typed, amount):
    parsed = money.parse_amount(typed)

    assert parsed == amount
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Enter a number."),
        ("   ", "Enter a number."),
        (None, "Enter a number."),
        ("abc", "Enter a number, such as 1234.50."),
        ("1.2.3", "Enter a number, such as 1234.50."),
        ("1e5", "Enter a number, such as 1234.50."),
        ("NaN", "Enter a number, such as 1234.50."),
        ("Infinity", "Enter a number, such as 1234.50."),
        (D("NaN"), "Enter a number."),
        (D("-Infinity"), "Enter a number."),
        ("12.345", "Enter at most 2 digits after the decimal point."),
        ("0.001", "Enter at most 2 digits after the decimal point."),
        ("-5", "Enter a number of at least 0."),
        ("1000000000000", "Enter a number of at most 999999999999.99."),
        (D("1E+40"), "Enter a number of at most 999999999999.99."),
    ],
)
def test_parse_amount_refuses_bad_input_with_a_clear_message(typed, message):
    assert refused(money.parse_amount, typed, field="price") == {"price": [message]}


def test_a_negative_amount_only_where_allowed():
    assert money.parse_amount("-3.5", allow_negative=True) == D("-3.50")
    assert refused(money.parse_amount, "-1000000000000", allow_negative=True) == {
        "amount": ["Enter a number of at least -999999999999.99."]
    }


@pytest.mark.parametrize("value", [0.1, 1.0, True])
def test_a_float_or_bool_is_a_programming_error(value):
    with pytest.raises(TypeError):
        money.parse_amount(value)


def test_parse_quantity_allows_three_decimals_and_more_than_zero():
    assert money.parse_quantity("2,125") == D("2.125")
    assert refused(money.parse_quantity, "0") == {"quantity": ["Enter a number greater than zero."]}
    assert refused(money.parse_quantity, "-1") == {
        "quantity": ["Enter a number greater than zero."]
    }
    assert refused(money.parse_quantity, "1.0005") == {
        "quantity": ["Enter at most 3 digits after the decimal point."]
    }
    assert refused(money.parse_quantity, "1000000000") == {
        "quantity": ["Enter a number of at most 999999999.999."]
    }


def test_parse_percent_is_between_0_and_100():
    assert money.parse_percent("12.5", field="discount") == D("12.50")
    assert money.parse_percent(100, field="discount") == D("100.00")
    assert money.parse_percent(0, field="discount") == D("0.00")
    assert refused(money.parse_percent, "100.01", field="vat") == {
        "vat": ["Enter a number of at most 100."]
    }
    assert refused(money.parse_percent, "-1", field="vat") == {
        "vat": ["Enter a number of at least 0."]
    }


def test_currencies_come_from_the_settings(settings):
    settings.KONTOR_CURRENCIES = ["EUR", "RUB"]
    settings.KONTOR_DEFAULT_CURRENCY = "RUB"

    assert money.currencies() == ["EUR", "RUB"]
    assert money.default_currency() == "RUB"
    assert money.parse_currency(" rub ") == "RUB"
    assert refused(money.parse_currency, "USD") == {
        "currency": ["Choose one of the currencies EUR, RUB."]
    }
    assert refused(money.parse_currency, None)


def test_the_default_currencies():
    assert money.currencies() == ["EUR", "USD", "RUB", "GBP", "CHF"]
    assert money.default_currency() == "EUR"


# -- a line -----------------------------------------------------------------------------


def test_a_line_net_is_exact_where_a_float_is_not():
    line = money.line_totals(3, "0.35", 0, 7)

    assert 3 * 0.35 != 1.05  # what a float makes of it
    assert line.net == D("1.05")
    assert line.list_amount == D("1.05")
    assert line.discount == D("0.00")
    assert line.vat_rate == D("7.00")


def test_a_line_net_is_rounded_half_up_once():
    # 0.005 exactly: half-up gives a cent, banker's rounding (Python's default) none.
    assert money.line_totals(1, "0.01", 50, 0).net == D("0.01")
    assert round(D("0.005"), 2) == D("0.00")
    # 9.99 less 12.5 % is 8.74125.
    line = money.line_totals(1, "9.99", "12.5", 20)
    assert (line.list_amount, line.discount, line.net) == (D("9.99"), D("1.25"), D("8.74"))
    # 3 × 0.30 less 12.5 % is 0.7875; rounding the discount first would give 0.78.
    assert money.line_totals(3, "0.30", "12.5", 20).net == D("0.79")
    # A fractional quantity: 2.125 × 4.99 = 10.60375.
    assert money.line_totals("2.125", "4.99", 0, 20).net == D("10.60")


def test_a_line_ignores_the_callers_decimal_context():
    with localcontext() as context:
        context.prec = 3
        line = money.line_totals(999, "12345.67", "12.5", 20)

    # A 3-digit context would make 999 × 12345.67 into 1.23E+7.
    assert line.list_amount == D("12333324.33")
    assert line.net == D("10791658.79")  # 12333324.33 × 0.875 = 10791658.78875


def test_a_line_names_the_parameter_it_refuses():
    assert refused(money.line_totals, 0, "1.00", 0, 20) == {
        "quantity": ["Enter a number greater than zero."]
    }
    assert refused(money.line_totals, 1, "-1.00", 0, 20) == {
        "unit_price": ["Enter a number of at least 0."]
    }
    assert refused(money.line_totals, 1, "1.00", 101, 20) == {
        "discount_percent": ["Enter a number of at most 100."]
    }
    assert refused(money.line_totals, 1, "1.00", 0, "abc") == {
        "vat_rate": ["Enter a number, such as 1234.50."]
    }


def test_a_line_beyond_the_largest_amount_is_refused():
    errors = refused(money.line_totals, "999999999", "999999999999.99", 0, 20)

    assert errors == {
        "quantity": ["The total exceeds the largest amount a document holds, 999999999999.99."]
    }


def test_a_free_line():
    line = money.line_totals(2, "10.00", 100, 20)

    assert (line.net, line.discount) == (D("0.00"), D("20.00"))


# -- a document -------------------------------------------------------------------------


def test_vat_is_computed_per_rate_not_per_line():
    # Ten lines of 1.50 at 7 %: each line's VAT would be 0.105 -> 0.11, 1.10 in all;
    # on the rate's net of 15.00 it is 1.05.
    lines = [money.line_totals(1, "1.50", 0, 7) for _ in range(10)]

    totals = money.document_totals(lines)

    per_line = sum(money.round_cents(line.net * 7 / 100) for line in lines)
    assert per_line == D("1.10")
    assert totals.vat_breakdown == (money.VatRateTotal(rate=D("7"), net=D("15.00"), vat=D("1.05")),)
    assert (totals.net, totals.vat, totals.gross) == (D("15.00"), D("1.05"), D("16.05"))


def test_a_float_would_lose_the_half_cent_of_vat():
    totals = money.document_totals([money.line_totals(1, "1.50", 0, 7)])

    assert round(1.50 * 7 / 100, 2) == 0.1  # 0.105 held as 0.10499…
    assert totals.vat == D("0.11")
    assert totals.gross == D("1.61")


def test_mixed_rates_discounts_and_zero_rated_lines():
    lines = [
        money.line_totals(3, "0.35", 0, 7),  # 1.05
        money.line_totals("2.5", "80.00", "12.5", 20),  # 200.00 less 25.00 = 175.00
        money.line_totals(1, "9.99", "12.5", 20),  # 8.74
        money.line_totals(4, "15.00", 0, 0),  # 60.00
        money.line_totals(7, "0.15", 0, 7),  # 1.05
        money.line_totals(1, "33.33", "10", "5.5"),  # 29.997 -> 30.00
    ]

    totals = money.document_totals(lines)

    assert totals.vat_breakdown == (
        money.VatRateTotal(rate=D("0"), net=D("60.00"), vat=D("0.00")),
        money.VatRateTotal(rate=D("5.5"), net=D("30.00"), vat=D("1.65")),
        money.VatRateTotal(rate=D("7"), net=D("2.10"), vat=D("0.15")),  # 0.147
        money.VatRateTotal(rate=D("20"), net=D("183.74"), vat=D("36.75")),  # 36.748
    )
    assert totals.net == D("275.84")
    assert totals.vat == D("38.55")
    assert totals.gross == D("314.39")
    assert totals.gross == totals.net + totals.vat


def test_many_lines_whose_per_line_vat_would_drift():
    # 0.05 at 10 %: 0.005 a line, rounded up a cent each; 300 lines would owe 3.00.
    lines = [money.line_totals(1, "0.05", 0, 10) for _ in range(300)]

    totals = money.document_totals(lines)

    assert totals.net == D("15.00")
    assert totals.vat == D("1.50")
    assert totals.gross == D("16.50")


def test_an_empty_document_totals_zero():
    totals = money.document_totals([])

    assert totals == money.DocumentTotals(
        net=D("0.00"), vat_breakdown=(), vat=D("0.00"), gross=D("0.00")
    )


def test_a_document_beyond_the_largest_amount_is_refused():
    lines = [money.line_totals(1, "600000000000.00", 0, 0) for _ in range(2)]

    assert refused(money.document_totals, lines) == {
        "lines": ["The total exceeds the largest amount a document holds, 999999999999.99."]
    }


def test_totals_are_frozen():
    totals = money.document_totals([money.line_totals(1, "1.00", 0, 20)])

    with pytest.raises(AttributeError):
        totals.net = D("2.00")


# -- formatting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "1,234,567.80 EUR"),
        ("ru", "1\u00a0234\u00a0567,80 EUR"),
        ("fr", "1\u00a0234\u00a0567,80 EUR"),
    ],
)
def test_amounts_are_formatted_in_the_language(language, text):
    with translation.override(language):
        assert money.format_money(D("1234567.80"), "EUR") == text


def test_percentages_drop_needless_zeros():
    with translation.override("fr"):
        assert money.format_percent(D("12.50")) == "12,5\u00a0%"
        assert money.format_percent(D("20.00")) == "20\u00a0%"


# -- settings ---------------------------------------------------------------------------


def _settings_process(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment.update(DJANGO_SETTINGS_MODULE="kontor.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_currencies_are_read_from_the_environment():
    result = _settings_process(
        "from kontor.core import money; print(money.currencies(), money.default_currency())",
        KONTOR_CURRENCIES="usd, kzt ,",
        KONTOR_DEFAULT_CURRENCY="kzt",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['USD', 'KZT'] KZT"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"KONTOR_CURRENCIES": "EURO,USD"}, "three-letter ISO 4217 codes"),
        ({"KONTOR_CURRENCIES": ","}, "three-letter ISO 4217 codes"),
        ({"KONTOR_DEFAULT_CURRENCY": "JPY"}, "is not one of KONTOR_CURRENCIES"),
    ],
)
def test_a_wrong_currency_setting_stops_the_start(env, message):
    result = _settings_process("pass", **env)

    assert result.returncode != 0
    assert message in result.stderr
