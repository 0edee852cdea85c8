"""Deal lines and quotes: lines priced by the money rules, the deal's amount their net
total, quotes numbered per year whose PDF shows totals and VAT exact to the cent."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kontor.catalog import services as catalog
from kontor.contacts import services as contacts
from kontor.core.errors import NotFound, ValidationFailed
from kontor.core.files import attachments_of
from kontor.core.models import AuditEntry
from kontor.documents.services import update_company_details
from kontor.sales import quotes, services
from kontor.sales.models import Deal, Quote

from ..catalog.conftest import product_data
from ..utils.clients import Api
from ..utils.pdf import pdf_pages
from .conftest import lines_for

pytestmark = pytest.mark.django_db


def test_lines_take_the_products_defaults_and_make_the_amount(org, catalogue, rates):
    deal = services.create_deal(
        {"title": "School", "amount": "5", "lines": lines_for(catalogue, rates)}, actor=org.admin
    )
    stored = list(deal.lines.order_by("position"))
    assert [(line.description, line.unit, line.unit_price, line.vat_rate) for line in stored] == [
        ("Cement CEM II 42.5, 25 kg", "bag", Decimal("8.90"), Decimal("19.00")),
        ("Building code handbook", "pc", Decimal("12.00"), Decimal("7.00")),
        ("Ready-mix concrete C25/30", "m3", Decimal("101.99"), Decimal("19.00")),
    ]
    assert [line.net for line in stored] == [Decimal("304.60"), Decimal("36.00"), Decimal("223.74")]
    # The amount given is ignored: a deal with lines is worth their net total.
    assert Deal.objects.get(pk=deal.pk).amount == Decimal("564.34")


def test_a_rate_changed_later_leaves_the_written_lines_alone(org, catalogue, rates):
    deal = services.create_deal(
        {"title": "Books", "lines": [{"product_id": catalogue["book"].pk, "quantity": 1}]},
        actor=org.admin,
    )
    catalog.update_vat_rate(rates["reduced"], {"rate": "9"}, actor=org.admin)
    assert deal.lines.get().vat_rate == Decimal("7.00")
    # Edits that leave the lines out keep them and the amount they make.
    deal = services.update_deal(
        deal, {"title": "Books for the site", "amount": "1"}, actor=org.admin
    )
    assert deal.amount == Decimal("12.00") and deal.lines.count() == 1


def test_every_bad_line_field_is_named(org, catalogue, rates):
    with pytest.raises(ValidationFailed) as refused:
        services.create_deal(
            {
                "title": "Bad",
                "lines": [
                    {"quantity": "1"},
                    {"product_id": catalogue["pump"].pk, "quantity": "0"},
                    {
                        "description": "Sand",
                        "quantity": "1.2345",
                        "unit_price": "1",
                        "unit": "mile",
                    },
                    {
                        "description": "Gravel",
                        "quantity": "1",
                        "unit_price": "-2",
                        "vat_rate_id": 999999,
                    },
                    {"product_id": 999999, "quantity": "1", "discount_percent": "101"},
                ],
            },
            actor=org.admin,
        )
    errors = refused.value.errors
    assert set(errors) == {
        "lines.0.description",
        "lines.0.unit_price",
        "lines.1.unit_price",
        "lines.2.unit",
        "lines.3.vat_rate_id",
        "lines.4.product_id",
    }
    assert "USD" in errors["lines.1.unit_price"][0]
    assert not Deal.objects.exists()
    # With the form's fields right, the money rules speak: quantity, price, discount.
    with pytest.raises(ValidationFailed) as refused:
        services.create_deal(
            {
                "title": "Bad",
                "lines": [
                    {"description": "Sand", "quantity": "1.2345", "unit_price": "1"},
                    {"description": "Gravel", "quantity": "1", "unit_price": "-2"},
                    {
                        "description": "Stone",
                        "quantity": "1",
                        "unit_price": "1",
                        "discount_percent": "101",
                    },
                ],
            },
            actor=org.admin,
        )
    assert set(refused.value.errors) == {
        "lines.0.quantity",
        "lines.1.unit_price",
        "lines.2.discount_percent",
    }


def test_a_product_outside_the_writers_scope_is_unknown(org, catalogue, rates):
    hidden = catalog.create_product(
        product_data("HID-1", department_id=org.dept.support.pk), actor=org.admin
    )
    with pytest.raises(ValidationFailed) as refused:
        services.create_deal(
            {"title": "T", "lines": [{"product_id": hidden.pk, "quantity": 1}]},
            actor=org.member_a,
        )
    assert refused.value.errors == {"lines.0.product_id": ["Unknown product."]}


def test_line_changes_are_audited_and_versioned(org, catalogue, rates):
    deal = services.create_deal({"title": "Audit me"}, actor=org.admin)
    deal = services.update_deal(
        deal, {"lines": [{"product_id": catalogue["cement"].pk, "quantity": 2}]}, actor=org.admin
    )
    assert deal.version == 2 and deal.amount == Decimal("17.80")
    entry = AuditEntry.objects.filter(object_id=deal.pk, action="sales.deal.updated").latest("id")
    assert entry.changes["lines"][0] == []
    assert entry.changes["lines"][1] == [
        "Cement CEM II 42.5, 25 kg × 2 bag @ 8.90 −0 % VAT 19 % = 17.80"
    ]
    deal = services.update_deal(deal, {"lines": []}, actor=org.admin)
    assert deal.lines.count() == 0 and deal.amount == Decimal("17.80")


def make_quoted_deal(org, catalogue, rates, **placement):
    company = contacts.create_company(
        {
            "name": "Stroy",
            "legal_name": "OOO Stroy Invest",
            "tax_id": "7701234567",
            "addresses": [
                {
                    "kind": "billing",
                    "street": "Tverskaya 1",
                    "city": "Moscow",
                    "postal_code": "125009",
                }
            ],
        },
        actor=org.admin,
    )
    return services.create_deal(
        {"title": "Tower", "company_id": company.pk, "lines": lines_for(catalogue, rates)}
        | placement,
        actor=org.admin,
    )


def test_a_quote_pdf_shows_the_lines_vat_per_rate_and_totals_to_the_cent(org, catalogue, rates):
    update_company_details({"legal_name": "B. Company Ltd", "vat_id": "DE999"}, actor=org.admin)
    deal = make_quoted_deal(org, catalogue, rates)

    quote = quotes.create_quote(deal, actor=org.admin, notes="Delivery included.", language="en")

    year = timezone.localdate().year
    assert quote.number == f"Q-{year}-0001"
    assert (quote.net, quote.vat, quote.gross) == (
        Decimal("564.34"),
        Decimal("102.90"),
        Decimal("667.24"),
    )
    attachment = attachments_of(deal).get()
    assert attachment == quote.attachment and attachment.name == f"Q-{year}-0001.pdf"
    rows = "\n".join(pdf_pages(attachment.file.read())).splitlines()
    for expected in [
        f"Quote No. Q-{year}-0001",
        "B. Company Ltd",
        "OOO Stroy Invest",
        "Tverskaya 1",
        "125009 Moscow",
        "VAT ID: 7701234567",
        "7 % 36.00 EUR 2.52 EUR",
        "19 % 528.34 EUR 100.38 EUR",
        "Net total 564.34 EUR",
        "VAT total 102.90 EUR",
        "Total 667.24 EUR",
        "Delivery included.",
    ]:
        assert expected in rows, expected
    assert any(row.endswith("7.5 % 19 % 304.60") for row in rows)
    assert any(row.endswith("12.25 % 19 % 223.74") for row in rows)


def test_quote_numbers_run_per_year_and_freeze_the_lines(org, catalogue, rates, monkeypatch):
    deal = make_quoted_deal(org, catalogue, rates)
    first = quotes.create_quote(deal, actor=org.admin)
    second = quotes.create_quote(deal, actor=org.admin)
    year = timezone.localdate().year
    assert (first.number, second.number) == (f"Q-{year}-0001", f"Q-{year}-0002")
    monkeypatch.setattr(quotes.timezone, "localdate", lambda: datetime.date(year + 1, 1, 2))
    assert quotes.create_quote(deal, actor=org.admin).number == f"Q-{year + 1}-0001"
    services.update_deal(
        deal, {"lines": [{"description": "Other", "quantity": 1, "unit_price": 5}]}, actor=org.admin
    )
    first.refresh_from_db()
    assert first.gross == Decimal("667.24") and len(first.lines) == 3
    assert first.valid_until == first.issued_on + datetime.timedelta(days=30)


def test_a_quote_needs_lines_edit_rights_and_sane_input(org, catalogue, rates):
    empty = services.create_deal({"title": "Empty"}, actor=org.member_a)
    with pytest.raises(ValidationFailed) as refused:
        quotes.create_quote(empty, actor=org.member_a)
    assert "lines" in refused.value.errors
    deal = make_quoted_deal(org, catalogue, rates)
    with pytest.raises(ValidationFailed) as refused:
        quotes.create_quote(
            deal,
            actor=org.admin,
            valid_until=timezone.localdate() - datetime.timedelta(days=1),
            language="xx",
        )
    assert set(refused.value.errors) == {"valid_until", "language"}
    with pytest.raises(NotFound):  # outside the reader's scope: not there at all
        quotes.create_quote(deal, actor=org.support_member)
    assert not Quote.objects.exists()


def test_the_quotes_api_issues_lists_and_downloads_within_scope(org, catalogue, rates):
    deal = make_quoted_deal(
        org, catalogue, rates, owner_id=org.member_a.pk, department_id=org.dept.team1.pk
    )
    api = Api(org.member_a)
    made = api.post("/quotes", {"deal_id": deal.pk, "language": "fr"})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["totals"]["gross"] == "667.24" and body["language"] == "fr"
    assert [row["vat"] for row in body["totals"]["vat_breakdown"]] == ["2.52", "100.38"]
    listed = api.get(f"/quotes?deal_id={deal.pk}").json()
    assert listed["count"] == 1 and listed["items"][0]["number"] == body["number"]
    pdf = api.get(f"/quotes/{body['id']}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "\n".join(pdf_pages(b"".join(pdf.streaming_content)))
    assert "667,24 EUR" in text  # French writes a decimal comma
    # Outside the deal's scope: not there at all.
    other = Api(org.support_member)
    assert other.get(f"/quotes/{body['id']}").status_code == 404
    assert other.get(f"/quotes/{body['id']}/pdf").status_code == 404
    assert other.get("/quotes").json()["count"] == 0
    assert other.post("/quotes", {"deal_id": deal.pk}).status_code == 404


def test_the_deals_api_writes_and_reads_lines(org, catalogue, rates):
    api = Api(org.admin)
    made = api.post("/deals", {"title": "Via API", "lines": lines_for(catalogue, rates)})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["amount"] == "564.34" and body["totals"]["gross"] == "667.24"
    assert [line["net"] for line in body["lines"]] == ["304.60", "36.00", "223.74"]
    bad = api.patch(
        f"/deals/{body['id']}",
        {"version": 1, "lines": [{"description": "X", "quantity": "-1", "unit_price": 1}]},
    )
    assert bad.status_code == 422 and "lines.0.quantity" in bad.json()["errors"]
    cleared = api.patch(f"/deals/{body['id']}", {"version": 1, "lines": []}).json()
    assert cleared["lines"] == [] and cleared["totals"] is None
