"""The board: open stages as columns with counts and sums (raw and weighted, per
currency), cards a page at a time, a move answered with the columns again."""

from decimal import Decimal

import pytest

from kontor.sales import board, services
from kontor.sales.models import Pipeline, Stage

from ..utils.clients import browser

pytestmark = pytest.mark.django_db


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__name="Sales", name=name)


def make(org, title, amount, currency="EUR", at="Lead", actor=None):
    actor = actor or org.member_a
    deal = services.create_deal(
        {"title": title, "amount": amount, "currency": currency}, actor=actor
    )
    if at != "Lead":
        deal = services.move_deal(deal, stage(at).pk, actor=actor, expected_version=deal.version)
    return deal


def test_columns_count_and_sum_their_deals_by_currency_and_weight(org):
    make(org, "A", "1000.00")
    make(org, "B", "250.50")
    make(org, "C", "99.99", currency="USD")
    make(org, "D", "4000", at="Proposal")
    make(org, "E", "7000", at="Won")  # closed: on no column
    pipeline = Pipeline.objects.get(name="Sales")
    found = {c.stage.name: c for c in board.columns(org.member_a, pipeline, board.BoardFilters())}
    assert list(found) == ["Lead", "Qualified", "Proposal", "Negotiation"]
    lead = found["Lead"]
    assert lead.count == 3
    assert [(t.currency, t.amount, t.weighted) for t in lead.totals] == [
        ("EUR", Decimal("1250.50"), Decimal("125.05")),
        ("USD", Decimal("99.99"), Decimal("10.00")),
    ]
    assert found["Proposal"].count == 1 and found["Proposal"].totals[0].weighted == Decimal(
        "2000.00"
    )
    assert found["Qualified"].count == 0 and found["Qualified"].totals == []


def test_a_reader_counts_only_the_deals_they_may_see(org):
    make(org, "Mine", "100")
    make(org, "Support's", "900", actor=org.support_member)
    pipeline = Pipeline.objects.get(name="Sales")
    lead = board.columns(org.member_a, pipeline, board.BoardFilters())[0]
    assert lead.count == 1 and lead.totals[0].amount == Decimal("100")
    page = browser(org.member_a).get(f"/deals/board/stages/{stage('Lead').pk}/").content.decode()
    assert "Mine" in page and "Support&#x27;s" not in page and "Support's" not in page


def test_cards_come_a_page_at_a_time_newest_in_stage_first(org):
    for i in range(board.CARDS_PER_PAGE + 3):
        make(org, f"Deal {i:02d}", "10")
    first, cursor = board.cards(org.member_a, stage("Lead"), board.BoardFilters())
    assert len(first) == board.CARDS_PER_PAGE and cursor
    rest, end = board.cards(org.member_a, stage("Lead"), board.BoardFilters(), cursor)
    titles = [c.deal.title for c in first + rest]
    assert len(rest) == 3 and not end
    assert titles == [f"Deal {i:02d}" for i in reversed(range(board.CARDS_PER_PAGE + 3))]


def test_filters_narrow_the_columns_and_the_cards(org):
    make(org, "Anna's", "100")
    make(org, "Boris's", "200", actor=org.member_b)
    filters = board.BoardFilters.from_query({"owner": str(org.member_b.pk)})
    pipeline = Pipeline.objects.get(name="Sales")
    assert board.columns(org.member_a, pipeline, filters)[0].count == 1
    cards, _cursor = board.cards(org.member_a, stage("Lead"), filters)
    assert [c.deal.title for c in cards] == ["Boris's"]


def test_a_move_answers_the_columns_and_a_stale_one_says_why(org):
    deal = make(org, "Roof", "500")
    ui = browser(org.member_a)
    url = f"/deals/{deal.pk}/move/"
    moved = ui.post(
        url, {"version": 1, "stage_id": stage("Proposal").pk}, HTTP_ACCEPT="application/json"
    )
    assert moved.status_code == 200
    answer = moved.json()
    assert answer["version"] == 2 and answer["stage"] == stage("Proposal").pk
    assert "500.00 EUR" in answer["heads"][str(stage("Proposal").pk)]
    assert 'data-count="0"' in answer["heads"][str(stage("Lead").pk)]
    stale = ui.post(
        url, {"version": 1, "stage_id": stage("Qualified").pk}, HTTP_ACCEPT="application/json"
    )
    assert (
        stale.status_code == 409
        and "moved or changed this deal meanwhile" in stale.json()["detail"]
    )
    # Without the board's script: a message on the board instead.
    plain = ui.post(url, {"version": 2, "stage_id": stage("Negotiation").pk}, follow=True)
    assert "Moved: Roof" in plain.content.decode()


def test_the_board_page_and_the_list_link_to_each_other(org):
    make(org, "Visible", "1")
    ui = browser(org.member_a)
    page = ui.get("/deals/board/").content.decode()
    assert 'data-testid="board"' in page and "Negotiation" in page
    assert "/deals/board/" in ui.get("/deals/").content.decode()
    assert browser(org.nobody).get("/deals/board/").status_code == 404
