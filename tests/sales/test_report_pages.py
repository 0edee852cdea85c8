"""The sales reports page: its charts hold the figures of ``kontor.sales.reports``, each
figure opens the deals list of exactly its deals (counted or summed through the API's
list, the same door), the CSV says what the tables say, for an admin and for a member."""

import csv
import datetime
import io
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from kontor.sales import reports
from kontor.sales.models import Target
from kontor.web.charts import Format

from ..utils.clients import Api, browser
from .test_reports import YEAR_END, YEAR_START

pytestmark = pytest.mark.django_db

REPORTS = reverse("sales:reports")


def listed(api: Api, url: str) -> list[dict]:
    """The deals the list behind ``url`` holds (through the API's list and its filters)."""
    parts = urlsplit(url)
    assert parts.path == reverse("sales:deal_list")
    query = dict(parse_qsl(parts.query))
    items, offset = [], 0
    while True:
        answer = api.get(f"/deals?{urlencode(query | {'limit': 200, 'offset': offset})}")
        assert answer.status_code == 200, answer.content
        body = answer.json()
        items += body["items"]
        offset += 200
        if offset >= body["count"]:
            return items


def check_figures(api: Api, chart) -> int:
    """Every linked figure of ``chart`` against its list: a count is the list's length,
    an amount its sum. Answers how many were checked."""
    checked = 0
    assert chart.value_format != Format.PERCENT  # a rate's list holds what it counts
    for series in chart.series:
        for value, url in zip(series.values, series.urls or [], strict=False):
            if not url:
                continue
            deals = listed(api, url)
            if chart.value_format == Format.MONEY:
                assert {d["currency"] for d in deals} <= {chart.currency}
                total = sum((Decimal(d["amount"]) for d in deals), Decimal("0.00"))
                assert total == value, (chart.slug, url)
            else:
                assert len(deals) == value, (chart.slug, series.name, url)
            checked += 1
    return checked


@pytest.fixture
def targets(history, org):
    month = datetime.date(2026, 3, 1)
    return [
        Target.objects.create(
            user=org.member_a,
            period="quarter",
            starts_on=datetime.date(2026, 1, 1),
            amount=Decimal("100000.00"),
            currency="EUR",
            won_count=3,
        ),
        Target.objects.create(
            department=org.dept.team1, period="month", starts_on=month, won_count=2
        ),
        Target.objects.create(
            department=org.dept.sales,
            period="quarter",
            starts_on=datetime.date(2026, 4, 1),
            amount=Decimal("5000"),
            currency="USD",
        ),
    ]


def _page(user, **query):
    response = browser(user).get(REPORTS, {"year": "2026", **query})
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("reader", ["admin", "member_a"])
def test_every_figure_opens_exactly_its_deals(history, targets, org, reader):
    user = getattr(org, reader)
    api = Api(user)
    response = _page(user)
    sections = response.context["sections"]
    steps = reports.funnel(user, history, YEAR_START, YEAR_END)
    funnel = sections["funnel"][0]
    assert list(funnel.series[0].values) == [s.reached for s in steps]
    checked = 0
    for key in ("owner", "department", "month", "plans"):
        for chart in sections[key]:
            checked += check_figures(api, chart)
    checked += check_figures(api, funnel)
    checked += check_figures(api, sections["closed"]["chart"])
    conversion = sections["funnel"][1]
    for step, url in zip(steps[1:], conversion.series[0].urls, strict=True):
        assert len(listed(api, url)) == step.reached
    rate = reports.win_rate(user, YEAR_START, YEAR_END, history)
    assert len(listed(api, sections["closed"]["closed_url"])) == rate.won + rate.lost
    won = listed(api, sections["closed"]["won_url"])
    assert len(won) == rate.won
    assert checked > 20
    # A member's figures hold their department's deals only.
    if reader == "member_a":
        team = {org.member_a.pk, org.member_b.pk}
        assert all(d["owner"]["id"] in team for d in won)
        labels = [label for chart in sections["owner"] for label in chart.labels]
        assert "sam@example.com" not in labels and labels


@pytest.mark.parametrize("reader", ["admin", "member_a"])
def test_the_forecast_shows_what_each_month_is_made_of(history, org, reader):
    user = getattr(org, reader)
    api = Api(user)
    response = _page(user)
    breakdown = response.context["breakdown"]
    assert breakdown
    totals = {(f.month, f.currency): f for f in reports.forecast(user, 3)}
    assert {(m["total"].month, m["total"].currency) for m in breakdown} == set(totals)
    for month in breakdown:
        total = month["total"]
        deals = listed(api, month["url"])
        assert len(deals) == total.count
        assert sum((Decimal(d["amount"]) for d in deals), Decimal(0)) == total.amount
        assert sum(p["part"].count for p in month["parts"]) == total.count
        assert sum(p["part"].amount for p in month["parts"]) == total.amount
        # Each part is rounded on its own: within a cent per stage of the month's figure.
        assert abs(sum(p["part"].weighted for p in month["parts"]) - total.weighted) <= Decimal(
            "0.01"
        ) * len(month["parts"])
        for entry in month["parts"]:
            part = entry["part"]
            deals = listed(api, entry["url"])
            assert len(deals) == part.count
            assert {d["stage"]["id"] for d in deals} == {part.stage.pk}
            exact = sum(Decimal(d["amount"]) for d in deals) * part.stage.probability / 100
            assert Decimal(exact).quantize(Decimal("0.01")) == part.weighted
    for chart in response.context["sections"]["forecast"]:
        for series in chart.series:
            for value, label_month in zip(series.values, _months(), strict=True):
                found = totals.get((label_month, chart.currency))
                expected = (
                    (found.amount if series.name == "Amount" else found.weighted)
                    if found
                    else Decimal("0.00")
                )
                assert value == expected


def _months():
    first = reports.month_start(timezone.localdate())
    return [reports.month_start(first, n) for n in range(3)]


def test_the_page_shows_charts_tables_and_the_csv_holds_the_figures(history, targets, org):
    client = browser(org.admin)
    response = client.get(REPORTS, {"year": "2026"})
    page = response.content.decode()
    assert page.count('data-testid="chart"') >= 8
    assert 'id="chart-funnel"' in page and 'class="chart-canvas chart-funnel"' in page
    assert 'data-testid="plan-table"' in page
    charts = [
        c
        for key in ("funnel", "owner", "month", "plans")
        for c in response.context["sections"][key]
    ]
    for chart in charts:
        answer = client.get(REPORTS, {"year": "2026", "format": "csv", "chart": chart.slug})
        assert answer["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        assert rows[0] == chart.csv_header()
        assert [row[0] for row in rows[1:]] == [str(label) for label in chart.labels]
        for index, series in enumerate(chart.series, start=1):
            assert [Decimal(row[index]) for row in rows[1:]] == [Decimal(v) for v in series.values]
    assert client.get(REPORTS, {"format": "csv", "chart": "nope"}).status_code == 404


def test_a_quarter_or_dates_narrow_the_period_and_bad_ones_are_said(history, org):
    response = _page(org.admin, quarter="2")
    params = response.context["params"]
    assert (params.start, params.end) == (datetime.date(2026, 4, 1), datetime.date(2026, 7, 1))
    assert "Q2 2026" in response.content.decode()
    response = _page(org.admin, **{"from": "2026-02-10", "to": "2026-03-05"})
    params = response.context["params"]
    assert (params.start, params.end) == (datetime.date(2026, 2, 10), datetime.date(2026, 3, 6))
    months = response.context["sections"]["month"]
    for chart in months:  # the months cut by the period's ends hold its days only
        assert "closed=2026-02-10..2026-02-28" in chart.series[0].urls[0]
        assert "closed=2026-03-01..2026-03-05" in chart.series[0].urls[1]
    response = _page(org.admin, **{"from": "2026-03-05", "to": "2026-02-10"})
    page = response.content.decode()
    assert response.context["errors"] == {"to": ["The period ends before it starts."]}
    assert 'role="alert"' in page and "Showing 20" in page
    response = _page(org.admin, year="12", quarter="7", pipeline_id="999")
    assert set(response.context["errors"]) == {"year", "pipeline_id"}


def test_without_deals_each_part_says_so(org):
    page = browser(org.admin).get(REPORTS).content.decode()
    for empty in ("empty-pipeline", "empty-revenue", "empty-forecast", "empty-plans"):
        assert f'data-testid="{empty}"' in page
    assert 'data-testid="chart"' not in page


def test_the_deals_list_and_board_link_to_the_reports(org):
    client = browser(org.member_a)
    page = client.get(reverse("sales:deal_list")).content.decode()
    assert f'href="{REPORTS}"' in page
    board = client.get(reverse("sales:board")).content.decode()
    assert f'href="{REPORTS}?pipeline_id=' in board


def test_a_drill_down_list_shows_its_filters_as_chips(history, org):
    response = _page(org.admin)
    url = response.context["sections"]["funnel"][0].series[0].urls[1]
    page = browser(org.admin).get(url).content.decode()
    chips = page.count('data-testid="filter-chip"')
    assert chips == 2  # opened in the period, reached the stage; the pipeline is a select
    assert "Sales · Qualified" in page


def test_a_period_filter_that_is_no_period_lists_nothing(history, org):
    api = Api(org.admin)
    assert len(listed(api, "/deals/?closed=2026-01-01..2026-12-31")) > 0
    for bad in ("..", "2026-13-01..", "2026-05-01..2026-04-01", "0001-01-01..", "x"):
        assert listed(api, f"/deals/?{urlencode({'closed': bad})}") == [], bad
    assert listed(api, "/deals/?reached_stage_id=99999999999999999999") == []
    assert listed(api, "/deals/?department_tree_id=abc") == []


def test_the_page_speaks_the_readers_language(history, org):
    client = browser(org.admin)
    page = client.get(REPORTS, {"year": "2019"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Отчёты по продажам" in page and 'value="2019" selected' in page
    page = client.get(
        REPORTS, {"year": "2026", "quarter": "1"}, HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Entonnoir" in page and "T1 2026" in page and "gagnées sur" in page
