"""Drag a deal's card to the next stage: the column sums change, the deal's stage history
shows the move; a second browser that moved the same card a moment earlier makes the
first one's move fail with a clear message, not a silent overwrite."""

import pytest
from playwright.sync_api import expect

from kontor.sales import services
from kontor.sales.models import Deal, Stage, StageChange
from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e


def column(page, name):
    stage = Stage.objects.get(pipeline__name="Sales", name=name)
    return page.locator(f'.board-col[data-stage="{stage.pk}"]')


def test_drag_a_card_to_the_next_stage(new_page, org):
    deal = services.create_deal({"title": "Warehouse roof", "amount": "12000"}, actor=org.member_a)
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    page.goto("/deals/board/")
    lead, qualified = column(page, "Lead"), column(page, "Qualified")
    expect(lead.get_by_test_id("column-sums")).to_contain_text("1 deal")
    expect(qualified.get_by_test_id("column-sums")).to_contain_text("0 deals")

    lead.get_by_test_id("deal-card").drag_to(qualified)
    expect(page.locator("#board-status")).to_contain_text("Moved.")
    expect(qualified.get_by_test_id("column-sums")).to_contain_text("12,000.00 EUR")
    expect(qualified.get_by_test_id("column-sums")).to_contain_text("3,000.00")  # 25 %
    expect(lead.get_by_test_id("column-sums")).to_contain_text("0 deals")
    assert Deal.objects.get(pk=deal.pk).stage.name == "Qualified"

    page.goto(f"/deals/{deal.pk}/")
    expect(page.get_by_test_id("stage-history")).to_contain_text("Lead → Qualified")


def test_a_card_moved_meanwhile_in_another_browser_is_refused(new_page, org):
    deal = services.create_deal({"title": "School facade", "amount": "800"}, actor=org.member_a)
    anna = new_page()
    log_in(anna, "anna@example.com", PASSWORD)
    anna.goto("/deals/board/")
    expect(column(anna, "Lead").get_by_test_id("deal-card")).to_be_visible()

    head = new_page()
    log_in(head, "head@example.com", PASSWORD)
    head.goto("/deals/board/")
    head_card = column(head, "Lead").get_by_test_id("deal-card")
    head_card.get_by_role("combobox").select_option(label="Proposal")
    head_card.get_by_role("button", name="Move").click()
    expect(head.locator("#board-status")).to_contain_text("Moved.")

    column(anna, "Lead").get_by_test_id("deal-card").drag_to(column(anna, "Qualified"))
    expect(anna.locator("#board-status")).to_contain_text("Someone else moved or changed this deal")
    expect(column(anna, "Lead").get_by_test_id("deal-card")).to_be_visible()  # back in place
    assert Deal.objects.get(pk=deal.pk).stage.name == "Proposal"
    assert StageChange.objects.filter(deal=deal).count() == 2  # created, head's move
