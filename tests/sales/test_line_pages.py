"""The deal page's products card, the lines editor and issuing a quote from the page."""

from decimal import Decimal

import pytest

from kontor.core.files import attachments_of
from kontor.sales import services
from kontor.sales.models import Deal, Quote

from ..utils.clients import browser
from .conftest import lines_for

pytestmark = pytest.mark.django_db


def posted(rows: list[dict], version: int, action: str = "save") -> dict:
    data = {"lines-count": str(len(rows)), "version": str(version), "action": action}
    for index, row in enumerate(rows):
        data.update({f"lines-{index}-{field}": value for field, value in row.items()})
    return data


def test_the_deal_page_shows_lines_totals_and_the_quote_form(org, catalogue, rates):
    deal = services.create_deal(
        {"title": "Tower", "lines": lines_for(catalogue, rates)}, actor=org.admin
    )
    page = browser(org.admin).get(f"/deals/{deal.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="lines-gross"><strong>667.24 EUR' in text
    assert "VAT 19 % on 528.34 EUR" in text.replace("\u00a0", " ")
    assert "Issue a quote" in text and "No quotes issued yet." in text


def test_an_empty_deal_invites_products_and_offers_no_quote(org):
    deal = services.create_deal({"title": "Empty"}, actor=org.member_a)
    text = browser(org.member_a).get(f"/deals/{deal.pk}/").content.decode()
    assert "No product lines yet." in text and "Add products" in text
    assert "Issue a quote" not in text


def test_the_editor_saves_lines_skipping_empty_rows(org, catalogue, rates):
    deal = services.create_deal({"title": "Tower"}, actor=org.admin)
    client = browser(org.admin)
    form = client.get(f"/deals/{deal.pk}/lines/")
    assert form.status_code == 200 and 'name="lines-count" value="1"' in form.content.decode()
    answer = client.post(
        f"/deals/{deal.pk}/lines/",
        posted(
            [
                {"product_id": str(catalogue["cement"].pk), "quantity": "10"},
                {"product_id": "", "description": "", "quantity": ""},
                {"description": "Delivery", "quantity": "1", "unit_price": "45,50", "unit": "pc"},
            ],
            deal.version,
        ),
    )
    assert answer.status_code == 302 and answer.url == f"/deals/{deal.pk}/"
    deal = Deal.objects.get(pk=deal.pk)
    assert [line.description for line in deal.lines.all()] == [
        "Cement CEM II 42.5, 25 kg",
        "Delivery",
    ]
    assert deal.amount == Decimal("134.50")
    # Shown again: the stored lines and one empty row, each VAT choice kept.
    again = client.get(f"/deals/{deal.pk}/lines/").content.decode()
    assert 'name="lines-count" value="3"' in again
    assert f'<option value="{rates["standard"].pk}" selected>' in again
    # The picker shows the product's name (and the description its copy).
    assert again.count('value="Cement CEM II 42.5, 25 kg"') == 2


def test_errors_land_on_their_row_and_nothing_is_saved(org, catalogue, rates):
    deal = services.create_deal({"title": "Tower"}, actor=org.admin)
    answer = browser(org.admin).post(
        f"/deals/{deal.pk}/lines/",
        posted(
            [
                {"description": "", "quantity": ""},
                {"description": "Sand", "quantity": "-3", "unit_price": "2"},
            ],
            deal.version,
        ),
    )
    text = answer.content.decode()
    assert answer.status_code == 200 and "Please correct the errors below." in text
    assert "Enter a number greater than zero." in text
    assert 'value="Sand"' in text
    assert not Deal.objects.get(pk=deal.pk).lines.exists()


def test_add_a_line_shows_one_more_row_and_saves_nothing(org):
    deal = services.create_deal({"title": "Tower"}, actor=org.admin)
    answer = browser(org.admin).post(
        f"/deals/{deal.pk}/lines/",
        posted([{"description": "Sand", "quantity": "1", "unit_price": "2"}], 1, "add"),
    )
    assert 'name="lines-count" value="2"' in answer.content.decode()
    assert not Deal.objects.get(pk=deal.pk).lines.exists()


def test_a_deal_saved_meanwhile_is_a_conflict(org, rates):
    deal = services.create_deal({"title": "Tower"}, actor=org.admin)
    services.update_deal(deal, {"title": "Tower 2"}, actor=org.admin)
    answer = browser(org.admin).post(
        f"/deals/{deal.pk}/lines/",
        posted([{"description": "Sand", "quantity": "1", "unit_price": "2"}], 1),
    )
    assert answer.status_code == 200
    assert "Someone else changed this record" in answer.content.decode()
    assert not Deal.objects.get(pk=deal.pk).lines.exists()


def test_the_editor_and_quotes_are_for_those_who_may_edit(org):
    deal = services.create_deal({"title": "Tower"}, actor=org.member_a)
    outsider = browser(org.support_member)
    assert outsider.get(f"/deals/{deal.pk}/lines/").status_code == 404
    assert outsider.post(f"/deals/{deal.pk}/quotes/new/").status_code == 404


def test_issuing_a_quote_from_the_page_stores_its_pdf(org, catalogue, rates):
    deal = services.create_deal(
        {"title": "Tower", "lines": lines_for(catalogue, rates)}, actor=org.admin
    )
    client = browser(org.admin)
    answer = client.post(
        f"/deals/{deal.pk}/quotes/new/",
        {"valid_until": "", "language": "ru", "notes": "Thanks"},
        follow=True,
    )
    quote = Quote.objects.get()
    assert quote.language == "ru" and quote.attachment == attachments_of(deal).get()
    assert quote.number in answer.content.decode()
    refused = client.post(
        f"/deals/{deal.pk}/quotes/new/", {"valid_until": "yesterday"}, follow=True
    )
    assert "Enter a date as YYYY-MM-DD." in refused.content.decode()
    assert Quote.objects.count() == 1


def test_the_deal_form_edits_tags_and_shows_a_computed_amount_read_only(org, catalogue, rates):
    deal = services.create_deal(
        {"title": "Tower", "tags": ["VIP"], "lines": lines_for(catalogue, rates)},
        actor=org.admin,
    )
    client = browser(org.admin)
    form = client.get(f"/deals/{deal.pk}/edit/").content.decode()
    assert 'name="tags" value="VIP"' in form
    assert 'value="564.34" readonly' in form and 'name="amount"' not in form
    answer = client.post(
        f"/deals/{deal.pk}/edit/",
        {
            "title": "Tower",
            "stage_id": deal.stage_id,
            "currency": "EUR",
            "tags": "VIP, key account",
            "version": deal.version,
        },
    )
    assert answer.status_code == 302, answer.context["form"].errors
    deal = Deal.objects.get(pk=deal.pk)
    assert sorted(tag.name for tag in deal.tags.all()) == ["VIP", "key account"]
    assert deal.amount == Decimal("564.34")
