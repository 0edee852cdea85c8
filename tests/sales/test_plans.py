"""Sales plans: targets written through the plans page and /api/v1/plans, validated,
allowed to administrators and heads of department for their subtree, audited, and read
with their actuals by whoever sees the deals those count."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from kontor.core.models import AuditEntry
from kontor.sales import reports, services
from kontor.sales.models import Stage, Target

from ..utils.clients import Api, browser

pytestmark = pytest.mark.django_db

PLANS = reverse("sales:plans")
NEW = reverse("sales:plan_create")


def month_plan(**fields) -> dict:
    return {"period": "month", "starts_on": "2026-05-01", "won_count": 2, **fields}


def won_deal(owner, amount: str, currency: str = "EUR"):
    deal = services.create_deal(
        {"title": f"Won {amount}", "amount": amount, "currency": currency}, actor=owner
    )
    won = Stage.objects.get(pipeline=deal.pipeline, kind=Stage.Kind.WON)
    return services.update_deal(
        deal, {"stage_id": won.pk}, actor=owner, expected_version=deal.version
    )


def test_an_admin_sets_changes_and_deletes_a_target_each_write_audited(org):
    api = Api(org.admin)
    answer = api.post(
        "/plans",
        month_plan(
            user_id=org.member_a.pk,
            starts_on="2026-01-01",
            period="quarter",
            amount="1000.50",
            currency="eur",
        ),
    )
    assert answer.status_code == 201, answer.content
    plan = answer.json()
    assert plan["amount"] == "1000.50" and plan["currency"] == "EUR"
    assert plan["ends_on"] == "2026-03-31" and plan["label"].endswith("Q1 2026")
    assert plan["actual"]["won_amount"] == "0.00" and plan["may_edit"] is True
    target = Target.objects.get(pk=plan["id"])
    entry = AuditEntry.objects.get(action="sales.target.created")
    assert entry.object_id == target.pk and entry.changes["amount"] == [None, "1000.50"]
    changed = api.patch(f"/plans/{target.pk}", {"won_count": 5, "amount": None})
    assert changed.status_code == 200, changed.content
    assert changed.json()["won_count"] == 5 and changed.json()["amount"] is None
    assert AuditEntry.objects.get(action="sales.target.updated").changes["won_count"] == [2, 5]
    assert api.delete(f"/plans/{target.pk}").status_code == 204
    assert not Target.objects.exists()
    assert AuditEntry.objects.filter(action="sales.target.deleted", object_id=target.pk).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"department_id": "dept"}, "user_id"),  # both a user and a department
        ({}, "user_id"),  # neither
        ({"user_id": "a", "starts_on": "2026-05-15"}, "starts_on"),
        ({"user_id": "a", "period": "quarter", "starts_on": "2026-02-01"}, "starts_on"),
        ({"user_id": "a", "amount": "-1", "currency": "EUR"}, "amount"),
        ({"user_id": "a", "amount": "1.005", "currency": "EUR"}, "amount"),
        ({"user_id": "a", "amount": "100", "currency": "XYZ"}, "currency"),
        ({"user_id": "a", "won_count": 0}, "won_count"),
        ({"user_id": "a", "won_count": None}, "amount"),  # neither amount nor count
        ({"user_id": 987654}, "user_id"),
    ],
)
def test_a_bad_target_is_refused_with_the_fields_message(org, fields, field):
    resolved = dict(fields)
    if resolved.get("user_id") == "a":
        resolved["user_id"] = org.member_a.pk
    if fields.get("department_id") == "dept":
        resolved |= {"department_id": org.dept.team1.pk, "user_id": org.member_a.pk}
    answer = Api(org.admin).post("/plans", month_plan(**resolved))
    assert answer.status_code == 422, answer.content
    assert field in answer.json()["errors"]
    assert not Target.objects.exists()


def test_one_target_per_subject_and_period(org):
    api = Api(org.admin)
    assert api.post("/plans", month_plan(user_id=org.member_a.pk)).status_code == 201
    again = api.post("/plans", month_plan(user_id=org.member_a.pk))
    assert again.status_code == 422 and "starts_on" in again.json()["errors"]
    # The same month as a quarter is another period.
    quarter = month_plan(user_id=org.member_a.pk, period="quarter", starts_on="2026-04-01")
    assert api.post("/plans", quarter).status_code == 201


def test_a_head_sets_targets_in_their_subtree_only(org):
    head = Api(org.sales_head)
    assert head.post("/plans", month_plan(user_id=org.member_a.pk)).status_code == 201
    assert head.post("/plans", month_plan(department_id=org.dept.team2.pk)).status_code == 201
    assert head.post("/plans", month_plan(department_id=org.dept.sales.pk)).status_code == 201
    for outside in (
        {"user_id": org.support_member.pk},
        {"department_id": org.dept.support.pk},
        {"user_id": org.sales_head.pk},  # not their own
    ):
        assert head.post("/plans", month_plan(**outside)).status_code == 403
    member = Api(org.member_a)
    assert member.post("/plans", month_plan(user_id=org.member_b.pk)).status_code == 403
    theirs = Target.objects.get(user=org.member_a)
    assert member.patch(f"/plans/{theirs.pk}", {"won_count": 9}).status_code == 403
    assert member.delete(f"/plans/{theirs.pk}").status_code == 403
    admins = Target.objects.create(
        department=org.dept.support,
        period="month",
        starts_on=datetime.date(2026, 5, 1),
        won_count=1,
    )
    # Outside their scope a target is not even seen.
    assert head.patch(f"/plans/{admins.pk}", {"won_count": 9}).status_code == 404
    # Nor may a head move a target out of their subtree.
    moved = head.patch(f"/plans/{theirs.pk}", {"user_id": org.support_member.pk})
    assert moved.status_code == 403
    assert Target.objects.get(pk=theirs.pk).user_id == org.member_a.pk


def test_a_reader_sees_the_targets_whose_actuals_they_see(org):
    may = datetime.date(2026, 5, 1)
    made = {
        "anna": Target.objects.create(
            user=org.member_a, period="month", starts_on=may, won_count=1
        ),
        "boris": Target.objects.create(
            user=org.member_b, period="month", starts_on=may, won_count=1
        ),
        "clara": Target.objects.create(
            user=org.member_c, period="month", starts_on=may, won_count=1
        ),
        "team1": Target.objects.create(
            department=org.dept.team1, period="month", starts_on=may, won_count=1
        ),
        # Its actual counts both teams: more than a member of one sees.
        "sales": Target.objects.create(
            department=org.dept.sales, period="month", starts_on=may, won_count=1
        ),
    }
    names = {target.pk: name for name, target in made.items()}

    def seen(user):
        return {names[p["id"]] for p in Api(user).get("/plans?year=2026").json()}

    assert seen(org.member_a) == {"anna", "boris", "team1"}
    assert seen(org.sales_head) == set(made)
    assert seen(org.admin) == set(made)
    assert seen(org.support_member) == set()
    assert Api(org.member_a).get(f"/plans/{made['clara'].pk}").status_code == 404
    assert Api(org.member_a).get("/plans?year=2025").json() == []


def test_plan_against_actual_is_live_and_opens_its_deals(org):
    target = Target.objects.create(
        user=org.member_a,
        period="month",
        starts_on=reports.month_start(datetime.date.today()),
        amount=Decimal("1000.00"),
        currency="EUR",
        won_count=4,
    )
    api = Api(org.member_b)
    assert api.get(f"/plans/{target.pk}").json()["actual"]["won_count"] == 0
    won_deal(org.member_a, "250.00")
    won_deal(org.member_a, "100.00", "USD")
    won_deal(org.member_b, "999.00")
    actual = api.get(f"/plans/{target.pk}").json()["actual"]
    assert actual == {
        "won_amount": "250.00",
        "won_count": 2,
        "amount_percent": "25.0",
        "count_percent": "50.0",
        "deals_query": actual["deals_query"],
    }
    listed = api.get(f"/deals?{actual['deals_query']}").json()
    assert listed["count"] == 2
    in_eur = api.get(f"/deals?{actual['deals_query']}&currency=EUR").json()["items"]
    assert [d["amount"] for d in in_eur] == ["250.00"]
    page = browser(org.member_b).get(PLANS).content.decode()
    assert "25.0&nbsp;%" in page and "50.0&nbsp;%" in page


def test_the_plans_page_form_keeps_the_input_and_says_what_is_wrong(org):
    client = browser(org.admin)
    page = client.get(PLANS).content.decode()
    assert 'data-testid="empty-plans"' in page and f'href="{NEW}"' in page
    form = client.get(NEW)
    assert form.status_code == 200 and 'data-testid="plan-form"' in form.content.decode()
    bad = client.post(
        NEW,
        {
            "user_id": org.member_a.pk,
            "department_id": org.dept.team1.pk,
            "period": "month",
            "starts_on": "2026-05-02",
            "amount": "12,50",
            "currency": "EUR",
            "won_count": "",
        },
    )
    assert bad.status_code == 422
    text = bad.content.decode()
    assert "Choose a user or a department, one of the two." in text
    assert "A period starts on the first day of a month." in text
    assert 'value="12,50"' in text and 'aria-invalid="true"' in text
    good = client.post(
        NEW,
        {
            "user_id": org.member_a.pk,
            "period": "month",
            "starts_on": "2026-05-01",
            "amount": "12,50",
            "currency": "EUR",
        },
    )
    assert good.status_code == 302 and good["Location"] == f"{PLANS}?year=2026"
    target = Target.objects.get()
    assert target.amount == Decimal("12.50")
    page = client.get(f"{PLANS}?year=2026").content.decode()
    assert 'data-testid="plan-row"' in page
    edit = reverse("sales:plan_edit", args=[target.pk])
    assert f'href="{edit}"' in page
    changed = client.post(
        edit,
        {
            "user_id": org.member_a.pk,
            "period": "month",
            "starts_on": "2026-06-01",
            "won_count": "3",
        },
    )
    assert changed.status_code == 302
    target.refresh_from_db()
    assert (target.starts_on, target.amount, target.won_count) == (
        datetime.date(2026, 6, 1),
        None,
        3,
    )
    assert client.post(reverse("sales:plan_delete", args=[target.pk])).status_code == 302
    assert not Target.objects.exists()


def test_a_member_reads_plans_but_gets_no_form(org):
    Target.objects.create(
        user=org.member_a, period="month", starts_on=datetime.date(2026, 5, 1), won_count=1
    )
    target = Target.objects.get()
    client = browser(org.member_a)
    page = client.get(f"{PLANS}?year=2026").content.decode()
    assert 'data-testid="plan-row"' in page and f'href="{NEW}"' not in page
    assert client.get(NEW).status_code == 404
    assert client.get(reverse("sales:plan_edit", args=[target.pk])).status_code == 404
    assert client.post(reverse("sales:plan_delete", args=[target.pk])).status_code == 404
    assert Target.objects.exists()


def plans_of_2026(org) -> None:
    """Each team member's and department's months, and the departments' quarters."""
    rows = []
    for month in range(1, 13):
        starts = datetime.date(2026, month, 1)
        for person in (org.member_a, org.member_b, org.member_c):
            rows.append(Target(user=person, period="month", starts_on=starts, won_count=1))
        rows.append(
            Target(department=org.dept.sales, period="month", starts_on=starts, won_count=3)
        )
    for quarter in range(4):
        starts = datetime.date(2026, 1 + 3 * quarter, 1)
        rows.append(
            Target(department=org.dept.sales, period="quarter", starts_on=starts, won_count=9)
        )
    Target.objects.bulk_create(rows)


def test_the_report_sets_the_departments_quarters_against_a_years_wins(org):
    plans_of_2026(org)
    year = browser(org.admin).get(reverse("sales:reports"), {"year": "2026"})
    labels = [row["label"] for row in year.context["plan_rows"]]
    assert len(labels) == 4 and all(label.startswith("Sales · Q") for label in labels)
    quarter = browser(org.admin).get(reverse("sales:reports"), {"year": "2026", "quarter": "2"})
    labels = [row["label"] for row in quarter.context["plan_rows"]]
    # A quarter shows its months and itself, departments only.
    assert len(labels) == 4 and all(label.startswith("Sales · ") for label in labels)


def test_the_plans_page_narrows_by_whose_and_period_and_charts_only_a_readable_number(org):
    plans_of_2026(org)
    client = browser(org.admin)
    everything = client.get(PLANS, {"year": "2026"})
    assert len(everything.context["plan_rows"]) == 52
    assert (
        everything.context["charts"] == [] and b'data-testid="plans-no-chart"' in everything.content
    )
    people = client.get(PLANS, {"year": "2026", "whose": "people", "period": "month"})
    assert len(people.context["plan_rows"]) == 36
    quarters = client.get(PLANS, {"year": "2026", "whose": "departments", "period": "quarter"})
    assert len(quarters.context["plan_rows"]) == 4 and quarters.context["charts"]
