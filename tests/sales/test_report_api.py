"""/api/v1/reports/sales/...: the figures of ``kontor.sales.reports`` for the caller's scope,
decimals as strings, and each figure's deals query listing exactly its deals."""

import datetime
from decimal import Decimal

import pytest

from kontor.sales import reports
from kontor.sales.models import Target

from ..utils.clients import Api
from .test_reports import YEAR_END, YEAR_START

pytestmark = pytest.mark.django_db


def deals(api: Api, query: str) -> list[dict]:
    answer = api.get(f"/deals?{query}&limit=200")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["count"] <= 200
    return body["items"]


@pytest.mark.parametrize("reader", ["admin", "member_a"])
def test_funnel_win_rate_and_cycle_time(history, org, reader):
    user = getattr(org, reader)
    api = Api(user)
    funnel = api.get(f"/reports/sales/funnel?year=2026&pipeline_id={history.pk}").json()
    steps = reports.funnel(user, history, YEAR_START, YEAR_END)
    assert funnel["period"] == {"first_day": "2026-01-01", "last_day": "2026-12-31"}
    assert funnel["pipeline"] == {"id": history.pk, "name": "Sales"}
    assert [s["reached"] for s in funnel["steps"]] == [s.reached for s in steps]
    assert [s["conversion"] for s in funnel["steps"]] == [
        None if s.conversion is None else str(s.conversion) for s in steps
    ]
    for step in funnel["steps"]:
        assert len(deals(api, step["deals_query"])) == step["reached"]
    rate = api.get("/reports/sales/win-rate?year=2026").json()
    expected = reports.win_rate(user, YEAR_START, YEAR_END, history)
    assert (rate["won"], rate["lost"], rate["rate"]) == (
        expected.won,
        expected.lost,
        str(expected.rate),
    )
    assert len(deals(api, rate["deals_query"])) == expected.won + expected.lost
    cycle = api.get("/reports/sales/cycle-time?year=2026").json()
    assert cycle["days"] == str(reports.cycle_days(user, YEAR_START, YEAR_END, history))
    assert len(deals(api, cycle["deals_query"])) == cycle["won"] == expected.won


@pytest.mark.parametrize("reader", ["admin", "member_a"])
@pytest.mark.parametrize("by", ["owner", "department", "month"])
def test_revenue(history, org, reader, by):
    user = getattr(org, reader)
    api = Api(user)
    answer = api.get(f"/reports/sales/revenue?year=2026&quarter=3&by={by}")
    assert answer.status_code == 200
    rows = answer.json()["rows"]
    start, end = datetime.date(2026, 7, 1), datetime.date(2026, 10, 1)
    expected = reports.revenue(user, start, end, by)
    assert [(r["currency"], Decimal(r["amount"]), r["count"]) for r in rows] == [
        (e.currency, e.amount, e.count) for e in expected
    ]
    assert rows
    for row in rows:
        assert isinstance(row["amount"], str)
        if row["deals_query"]:
            found = deals(api, row["deals_query"])
            assert len(found) == row["count"]
            assert sum(Decimal(d["amount"]) for d in found) == Decimal(row["amount"])


def test_a_member_counts_their_departments_deals_only(history, org):
    everyone = Api(org.admin).get("/reports/sales/revenue?year=2026&by=owner").json()["rows"]
    team = Api(org.member_a).get("/reports/sales/revenue?year=2026&by=owner").json()["rows"]
    assert {r["key"] for r in team} <= {org.member_a.pk, org.member_b.pk}
    assert team and everyone
    opened = [
        Api(user).get("/reports/sales/funnel?year=2026").json()["steps"][0]["reached"]
        for user in (org.member_a, org.admin)
    ]
    assert 0 < opened[0] < opened[1]


def test_the_forecast_and_its_parts(history, org):
    api = Api(org.member_a)
    months = api.get("/reports/sales/forecast").json()["months"]
    expected = reports.forecast(org.member_a, 3)
    assert [
        (m["month"], m["currency"], m["amount"], m["weighted"], m["count"]) for m in months
    ] == [
        (f.month.isoformat(), f.currency, str(f.amount), str(f.weighted), f.count) for f in expected
    ]
    for month in months:
        assert len(deals(api, month["deals_query"])) == month["count"]
        assert sum(p["count"] for p in month["parts"]) == month["count"]
        for part in month["parts"]:
            found = deals(api, part["deals_query"])
            assert len(found) == part["count"]
            assert {d["stage"]["probability"] for d in found} == {part["stage"]["probability"]}
    assert api.get("/reports/sales/forecast?months=13").status_code == 422


def test_plans_report_and_bad_periods(history, org):
    Target.objects.create(
        user=org.member_a, period="month", starts_on=datetime.date(2026, 5, 1), won_count=2
    )
    Target.objects.create(
        user=org.member_c, period="month", starts_on=datetime.date(2026, 5, 1), won_count=2
    )
    answer = Api(org.member_a).get("/reports/sales/plans?from=2026-05-01&to=2026-05-31").json()
    assert [t["user"]["id"] for t in answer["targets"]] == [org.member_a.pk]
    assert Api(org.admin).get("/reports/sales/plans?year=2026&quarter=2").json()["targets"]
    bad = Api(org.admin).get("/reports/sales/funnel?from=2026-05-01")
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"to"}
    assert Api(org.admin).get("/reports/sales/revenue?year=1999").status_code == 422
    assert Api(org.admin).get("/reports/sales/win-rate?pipeline_id=abc").status_code == 422


def test_the_routes_are_in_the_openapi_document(org):
    paths = Api(org.admin).get("/openapi.json").json()["paths"]
    for name in ("funnel", "win-rate", "cycle-time", "revenue", "forecast", "plans"):
        assert f"/api/v1/reports/sales/{name}" in paths
    assert "/api/v1/plans" in paths and "/api/v1/plans/{target_id}" in paths
    assert {p["name"] for p in paths["/api/v1/reports/sales/funnel"]["get"]["parameters"]} >= {
        "from",
        "to",
        "year",
        "quarter",
        "pipeline_id",
    }
