import phonenumbers
import pytest

from kontor.core import phones


@pytest.mark.parametrize(
    "e164,national",
    [
        ("+79161234567", "9161234567"),
        ("+390612345678", "612345678"),  # Italy keeps a leading zero in E.164, not here
        ("+12025550123", "2025550123"),
        ("+80012345678", "12345678"),  # a non-geographic calling code
        ("+4930123456", "30123456"),
    ],
)
def test_national_digits_are_read_off_the_e164_string(e164, national):
    assert phones.national_digits(e164) == national


def test_national_digits_agree_with_phonenumbers_for_every_region():
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            assert phones.national_digits(e164) == str(example.national_number), e164


def test_national_digits_are_a_suffix_of_the_e164_digits():
    # The search text holds both; a substring search for one finds the other.
    for typed in ("8 (916) 123-45-67", "+39 06 1234 5678", "+1 (202) 555-0123"):
        e164 = phones.to_e164(typed, "RU")
        assert e164.lstrip("+").endswith(phones.national_digits(e164))
