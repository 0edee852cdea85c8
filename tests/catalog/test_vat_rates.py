"""VAT rates: the default mark, the rules of a rate, who writes them, the copy helper."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from kontor.catalog import services, vat
from kontor.catalog.models import VatRate
from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry

from .conftest import product_data


def _errors(call) -> dict:
    with pytest.raises(ValidationFailed) as failed:
        call()
    return failed.value.errors


def test_the_first_rate_is_the_default_and_later_ones_are_not(rates):
    assert [r.is_default for r in rates.values()] == [True, False, False]
    assert vat.default_rate() == rates["standard"]
    assert rates["reduced"].rate == Decimal("7.00")


def test_marking_another_default_moves_the_mark_with_an_audit_entry_on_both(org, rates):
    services.update_vat_rate(rates["reduced"], {"is_default": True}, actor=org.admin)

    assert list(VatRate.objects.filter(is_default=True)) == [rates["reduced"]]
    for rate, change in ((rates["standard"], [True, False]), (rates["reduced"], [False, True])):
        entry = AuditEntry.objects.for_object(rate).filter(action="catalog.vatrate.updated").get()
        assert entry.changes["is_default"] == change


def test_a_new_rate_marked_default_takes_the_mark(org, rates):
    made = services.create_vat_rate(
        {"name": "New standard", "rate": "16", "is_default": True}, actor=org.admin
    )
    assert vat.default_rate() == made
    assert VatRate.objects.filter(is_default=True).count() == 1


def test_the_default_cannot_be_unmarked_or_deactivated(org, rates):
    standard = rates["standard"]
    assert "is_default" in _errors(
        lambda: services.update_vat_rate(standard, {"is_default": False}, actor=org.admin)
    )
    standard.refresh_from_db()  # a refused update leaves the instance as it made it
    assert "is_active" in _errors(
        lambda: services.update_vat_rate(standard, {"is_active": False}, actor=org.admin)
    )
    standard.refresh_from_db()
    assert standard.is_default and standard.is_active and standard.version == 1


@pytest.mark.parametrize(
    ("rate", "field"),
    [
        ("-1", "rate"),
        ("100", "rate"),
        ("7.555", "rate"),
        ("seven", "rate"),
        ("", "rate"),
        ("1e999999", "rate"),
        ("NaN", "rate"),
    ],
)
def test_a_rate_is_a_percentage_from_0_to_99_99_with_two_decimals(org, rate, field):
    errors = _errors(
        lambda: services.create_vat_rate({"name": "Odd", "rate": rate}, actor=org.admin)
    )
    assert list(errors) == [field]
    assert not VatRate.objects.exists()


def test_a_rate_reads_a_decimal_comma_and_names_are_unique_whatever_their_case(org, rates):
    made = services.create_vat_rate({"name": "Books", "rate": "5,5"}, actor=org.admin)
    assert made.rate == Decimal("5.50") and str(made) == "Books (5.5 %)"
    errors = _errors(
        lambda: services.create_vat_rate({"name": "STANDARD ", "rate": "19"}, actor=org.admin)
    )
    assert errors == {"name": ["A VAT rate with this name exists."]}
    assert "name" in _errors(lambda: services.create_vat_rate({"rate": "19"}, actor=org.admin))
    services.create_vat_rate({"name": "Льготная", "rate": "10"}, actor=org.admin)
    assert "name" in _errors(
        lambda: services.create_vat_rate({"name": "льготная", "rate": "10"}, actor=org.admin)
    )


def test_only_an_administrator_writes_rates(org, rates):
    for user in (org.member_a, org.sales_head, org.nobody):
        with pytest.raises(PermissionDenied):
            services.create_vat_rate({"name": "Mine", "rate": "1"}, actor=user)
        with pytest.raises(PermissionDenied):
            services.update_vat_rate(rates["zero"], {"rate": "1"}, actor=user)
        with pytest.raises(PermissionDenied):
            services.delete_vat_rate(rates["zero"], actor=user)
    assert VatRate.objects.count() == 3
    assert VatRate.objects.get(pk=rates["zero"].pk).rate == Decimal("0.00")
    # The superuser holds no role and may.
    services.update_vat_rate(rates["zero"], {"name": "Exempt"}, actor=org.superuser)


def test_every_signed_in_user_reads_the_rates_and_only_administrators_reach_them_to_write(
    org, rates
):
    assert set(VatRate.objects.visible_to(org.nobody)) == set(rates.values())
    assert not VatRate.objects.visible_to(org.member_a, "edit").exists()
    assert VatRate.objects.visible_to(org.admin, "edit").count() == 3
    assert not VatRate.objects.visible_to(AnonymousUser()).exists()


def test_a_rate_in_use_or_the_default_is_not_deleted_an_unused_one_is(org, rates):
    services.create_product(product_data(vat_rate_id=rates["reduced"].pk), actor=org.member_a)

    with pytest.raises(ValidationFailed, match="in use"):
        services.delete_vat_rate(rates["reduced"], actor=org.admin)
    with pytest.raises(ValidationFailed, match="default"):
        services.delete_vat_rate(rates["standard"], actor=org.admin)
    services.delete_vat_rate(rates["zero"], actor=org.admin)

    assert set(VatRate.objects.all()) == {rates["standard"], rates["reduced"]}
    assert AuditEntry.objects.filter(action="catalog.vatrate.deleted").count() == 1


def test_the_last_rate_may_go_even_though_it_is_the_default(org):
    only = services.create_vat_rate({"name": "Standard", "rate": "20"}, actor=org.admin)
    services.delete_vat_rate(only, actor=org.admin)
    assert not VatRate.objects.exists()


# -- the value a document line copies -------------------------------------------------------


def test_rate_value_is_the_chosen_rates_or_the_defaults(rates):
    assert vat.rate_value(rates["reduced"].pk) == Decimal("7.00")
    assert vat.rate_value(str(rates["zero"].pk)) == Decimal("0.00")
    assert vat.rate_value() == vat.rate_value(None) == Decimal("19.00")
    assert isinstance(vat.rate_value(), Decimal)


def test_rate_value_names_the_callers_field_for_an_unknown_rate_or_no_rates(db):
    with pytest.raises(ValidationFailed) as no_rates:
        vat.rate_value(field="lines.0.vat_rate_id")
    assert list(no_rates.value.errors) == ["lines.0.vat_rate_id"]
    with pytest.raises(ValidationFailed) as unknown:
        vat.rate_value(987654321)
    assert unknown.value.errors == {"vat_rate_id": ["Unknown VAT rate."]}
    with pytest.raises(ValidationFailed):
        vat.rate_value("x")


def test_a_rate_change_applies_to_new_copies_only(org, rates):
    """What a line copied stays; the next line copies the new value."""
    copied_before = vat.rate_value(rates["standard"].pk)

    services.update_vat_rate(rates["standard"], {"rate": "16"}, actor=org.admin)

    assert copied_before == Decimal("19.00")
    assert vat.rate_value(rates["standard"].pk) == Decimal("16.00")


def test_forms_offer_the_active_rates_default_first_and_a_records_own_rate(org, rates):
    services.update_vat_rate(rates["reduced"], {"is_active": False}, actor=org.admin)
    assert vat.offered_rates() == [rates["standard"], rates["zero"]]
    assert vat.offered_rates(rates["reduced"].pk) == [
        rates["standard"],
        rates["reduced"],
        rates["zero"],
    ]
