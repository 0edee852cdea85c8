"""Dashboards: who publishes where, which dashboard a home page shows, widgets read for
their viewer (never a record the viewer cannot see), every kind with data and empty,
arranging with htmx, and /api/v1/dashboards."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kontor.activities import services as activities
from kontor.contacts import services as contacts
from kontor.core import types
from kontor.core.errors import NotFound, PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry
from kontor.dashboards import services, widgets
from kontor.dashboards.models import Dashboard, Widget
from kontor.sales import services as sales
from kontor.sales.models import Target
from kontor.savedviews import services as views
from tests.utils.clients import Api
from tests.web.test_custom_field_pages import person_fields  # noqa: F401 (a fixture)

PEOPLE = types.get("contacts.person")
HTMX = {"HX-Request": "true"}


def board(actor, name="Mine", **data):
    return services.create_dashboard({"name": name, **data}, actor=actor)


def add(dashboard, kind, actor, **given):
    return services.add_widget(dashboard, kind, {k: str(v) for k, v in given.items()}, actor=actor)


@pytest.fixture
def people(org, request):
    """Anna's two clients (team 1), Clara's one (team 2): a team-1 member sees two."""
    request.getfixturevalue("person_fields")
    made = {}
    for first, tier, budget, actor in (
        ("Olga", "gold", "100.50", org.member_a),
        ("Pavel", "silver", "20", org.member_a),
        ("Clara's client", "gold", "999", org.member_c),
    ):
        made[first] = contacts.create_person(
            {"first_name": first, "custom": {"tier": tier, "budget": budget}}, actor=actor
        )
    return made


def sales_view(org, name="All people"):
    return views.create(
        PEOPLE,
        {"name": name, "sharing": "department", "department_id": org.dept.sales.pk},
        actor=org.sales_head,
    )


# -- rules ------------------------------------------------------------------------------------


def test_a_head_publishes_within_reach_a_member_never(org):
    mine = board(org.member_a)
    with pytest.raises(PermissionDenied):
        services.update_dashboard(mine, {"department_id": org.dept.team1.pk}, actor=org.member_a)
    with pytest.raises(PermissionDenied):
        board(org.member_a, "Team", department_id=org.dept.team1.pk)
    head = board(org.sales_head, "Sales", department_id=org.dept.sales.pk)
    assert head.department_id == org.dept.sales.pk
    services.update_dashboard(head, {"department_id": org.dept.team2.pk}, actor=org.sales_head)
    with pytest.raises(PermissionDenied):  # outside the head's subtree
        services.update_dashboard(
            head, {"department_id": org.dept.support.pk}, actor=org.sales_head
        )
    admin = board(org.admin, "Support's", department_id=org.dept.support.pk)
    # An administrator unpublishes anyone's; a member changes nobody else's.
    services.update_dashboard(head, {"department_id": None}, actor=org.admin)
    with pytest.raises(PermissionDenied):
        services.delete_dashboard(admin, actor=org.member_a)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"dashboards.dashboard.created", "dashboards.dashboard.updated"} <= actions
    with pytest.raises(ValidationFailed) as refused:
        board(org.sales_head, " sales ")
    assert "name" in refused.value.errors


def test_home_shows_own_else_the_nearest_published_else_the_default(org):
    assert services.home(org.member_a).dashboard is None  # the default
    assert [w.kind for w in services.home(org.member_a).widgets][0] == "overview"
    sales_board = board(org.sales_head, "Sales", department_id=org.dept.sales.pk)
    assert services.home(org.member_a).dashboard == sales_board
    assert services.home(org.member_c).dashboard == sales_board  # a sub-department
    assert services.home(org.support_member).dashboard is None
    team_board = board(org.admin, "Team 1", department_id=org.dept.team1.pk)
    assert services.home(org.member_a).dashboard == team_board  # nearer
    assert services.home(org.member_c).dashboard == sales_board
    own = services.copy_dashboard(team_board, actor=org.member_a)
    home = services.home(org.member_a)
    assert home.dashboard == own and home.own and own.department_id is None
    assert (
        services.home(org.sales_head).dashboard == sales_board and services.home(org.sales_head).own
    )
    with pytest.raises(NotFound):
        services.dashboard_for(org.support_member, sales_board.pk)
    with pytest.raises(PermissionDenied):  # members see a published one, read-only
        add(sales_board, "my_tasks", org.member_a)


def test_a_published_widget_over_a_view_shows_each_viewer_only_what_they_see(org, people):
    view = sales_view(org)
    published = board(org.sales_head, "Sales", department_id=org.dept.sales.pk)
    rows = add(published, "saved_view", org.sales_head, view_id=view.pk, rows=10)
    chart = add(published, "view_chart", org.sales_head, view_id=view.pk, group_by="cf.tier")
    metric = add(published, "metric", org.sales_head, view_id=view.pk, measure="sum.cf.budget")

    def read(widget, user):
        return widgets.get(widget.kind).read(user, widget)

    assert {r["title"] for r in read(rows, org.sales_head)["rows"]} == set(people)
    assert {r["title"] for r in read(rows, org.member_a)["rows"]} == {"Olga", "Pavel"}
    member_chart = read(chart, org.member_a)["chart"]
    assert dict(zip(member_chart.labels, member_chart.series[0].values, strict=True)) == {
        "Gold": 1,
        "Silver": 1,
    }
    head_chart = read(chart, org.sales_head)["chart"]
    assert dict(zip(head_chart.labels, head_chart.series[0].values, strict=True)) == {
        "Gold": 2,
        "Silver": 1,
    }
    gold_url = member_chart.series[0].urls[member_chart.labels.index("Gold")]
    assert "custom=tier%3Agold" in gold_url
    assert read(metric, org.member_a)["figures"][0]["value"] == Decimal("120.50")
    assert read(metric, org.sales_head)["figures"][0]["value"] == Decimal("1119.50")
    # A view no longer shared with the reader: the widget says so, and shows nothing.
    views.update(view, {"sharing": "personal"}, actor=org.sales_head)
    assert "unavailable" in read(rows, org.member_a)
    assert "unavailable" not in read(rows, org.sales_head)


def test_only_kinds_and_views_the_user_may_use_are_offered(org, people):
    sales_view(org)
    views.create(PEOPLE, {"name": "Support only"}, actor=org.support_member)
    offered = {k.key for k in widgets.usable_kinds(org.member_a)}
    assert {"my_tasks", "my_deals", "saved_view", "view_chart", "metric"} <= offered
    names = [label for _v, label in widgets.view_input(org.member_a, {}).choices]
    assert names == ["People: All people"]
    assert "saved_view" not in {k.key for k in widgets.usable_kinds(org.nobody)}
    assert "my_tasks" not in {k.key for k in widgets.usable_kinds(org.nobody)}
    mine = board(org.member_a)
    other = views.create(PEOPLE, {"name": "Not Anna's"}, actor=org.member_b)
    with pytest.raises(ValidationFailed) as refused:
        add(mine, "saved_view", org.member_a, view_id=other.pk)
    assert "view_id" in refused.value.errors
    with pytest.raises(ValidationFailed):
        add(mine, "no_such_kind", org.member_a)


# -- each kind with data and empty --------------------------------------------------------------

KINDS = (
    "my_tasks",
    "my_deals",
    "saved_view",
    "view_chart",
    "metric",
    "plan_vs_actual",
    "birthdays",
    "overview",
)


def _dashboard_with_every_kind(org, view):
    mine = board(org.member_a)
    settings = {
        "saved_view": {"view_id": view.pk},
        "view_chart": {"view_id": view.pk, "group_by": "owner"},
        "metric": {"view_id": view.pk},
    }
    for kind in KINDS:
        add(mine, kind, org.member_a, **settings.get(kind, {}))
    return mine


def _widget_html(html: str, kind: str) -> str:
    start = html.index(f'data-kind="{kind}"')
    end = html.find('data-testid="widget"', start)
    return html[start : end if end > 0 else len(html)]


def test_every_kind_renders_with_data(client, org, people):
    today = timezone.localdate()
    activities.create_task({"title": "Call Olga", "due_date": today}, actor=org.member_a)
    sales.create_deal(
        {"title": "Big order", "amount": "500", "currency": "EUR"}, actor=org.member_a
    )
    contacts.update_person(
        people["Olga"], {"birthday": today.replace(year=1990)}, actor=org.member_a
    )
    Target.objects.create(
        user=org.member_a,
        period="month",
        starts_on=today.replace(day=1),
        amount=Decimal(1000),
        currency="EUR",
    )
    for subject in ({"user": org.member_b}, {"department": org.dept.team1}):
        Target.objects.create(
            **subject, period="month", starts_on=today.replace(day=1), won_count=7
        )
    view = views.create(PEOPLE, {"name": "My people"}, actor=org.member_a)
    _dashboard_with_every_kind(org, view)
    client.force_login(org.member_a)
    html = client.get("/").content.decode()
    plans = _widget_html(html, "plan_vs_actual")
    assert "Sales Team 1" in plans and "boris@example.com" not in plans  # mine and my team's
    expected = {
        "my_tasks": "Call Olga",
        "my_deals": "Big order",
        "saved_view": "Olga",
        "view_chart": "anna@example.com",
        "metric": 'data-testid="metric-value">2<',
        "plan_vs_actual": "1,000.00",
        "birthdays": "Olga",
        "overview": 'data-testid="people-count">2<',
    }
    for kind, text in expected.items():
        part = _widget_html(html, kind)
        assert text in part, kind
        assert "widget-empty" not in part, kind


def test_every_kind_says_when_it_is_empty(client, org):
    view = views.create(PEOPLE, {"name": "My people"}, actor=org.member_a)
    _dashboard_with_every_kind(org, view)
    client.force_login(org.member_a)
    html = client.get("/").content.decode()
    for kind in KINDS:
        part = _widget_html(html, kind)
        assert "widget-empty" in part or "Nobody here yet" in part, kind


def test_a_chart_widget_answers_its_csv(client, org, people):
    view = views.create(PEOPLE, {"name": "My people"}, actor=org.member_a)
    chart = add(
        board(org.member_a), "view_chart", org.member_a, view_id=view.pk, group_by="cf.tier"
    )
    client.force_login(org.member_a)
    answer = client.get("/", {"format": "csv", "chart": f"widget-{chart.pk}"})
    assert answer.status_code == 200 and "Gold,1" in answer.content.decode("utf-8-sig")


# -- arranging with htmx ------------------------------------------------------------------------


def test_htmx_adds_moves_resizes_and_removes_widgets_without_a_reload(client, org, people):
    view = views.create(PEOPLE, {"name": "My people"}, actor=org.member_a)
    client.force_login(org.member_a)
    copied = client.post(reverse("dashboards:copy"))
    assert copied.status_code == 302
    mine = Dashboard.objects.get(owner=org.member_a)
    assert [w.kind for w in mine.widgets.all()] == ["overview", "my_tasks", "my_deals", "birthdays"]
    form = client.get(
        reverse("dashboards:add_form", args=[mine.pk]),
        {"kind": "view_chart", "view_id": view.pk},
        headers=HTMX,
    ).content.decode()
    assert 'name="group_by"' in form and 'value="cf.tier"' in form
    url = reverse("dashboards:add", args=[mine.pk])
    refused = client.post(
        url, {"kind": "view_chart", "view_id": view.pk, "group_by": "nope"}, headers=HTMX
    )
    assert refused.status_code == 200 and refused["HX-Retarget"] == "#widget-add"
    assert "field-error" in refused.content.decode()
    answer = client.post(
        url, {"kind": "view_chart", "view_id": view.pk, "group_by": "cf.tier"}, headers=HTMX
    )
    html = answer.content.decode()
    assert answer.status_code == 200 and "<html" not in html and 'id="dashboard"' in html
    assert "My people: Tier" in html
    chart = mine.widgets.get(kind="view_chart")
    assert chart.position == 4
    widget_url = reverse("dashboards:widget", args=[chart.pk])
    client.post(widget_url, {"action": "earlier"}, headers=HTMX)
    assert [w.kind for w in mine.widgets.all()][3:] == ["view_chart", "birthdays"]
    client.post(widget_url, {"width": "4", "height": "large"}, headers=HTMX)
    chart.refresh_from_db()
    assert (chart.width, chart.height) == (4, "large")
    assert client.post(widget_url, {"width": "9"}, headers=HTMX).status_code == 200
    chart.refresh_from_db()
    assert chart.width == 4  # refused, kept
    client.post(widget_url, {"action": "remove"}, headers=HTMX)
    assert [w.position for w in mine.widgets.all()] == [0, 1, 2, 3]
    assert AuditEntry.objects.filter(action="dashboards.widget.deleted").count() == 1
    # Someone else's widget is not theirs to change.
    client.force_login(org.member_b)
    other = mine.widgets.first()
    assert (
        client.post(reverse("dashboards:widget", args=[other.pk]), {"action": "remove"}).status_code
        == 404
    )


def test_a_member_sees_a_published_dashboard_read_only_and_copies_it(client, org):
    published = board(org.sales_head, "Sales board", department_id=org.dept.sales.pk)
    add(published, "my_tasks", org.sales_head)
    client.force_login(org.member_a)
    html = client.get("/").content.decode()
    assert "Sales board" in html and 'data-testid="published-by"' in html
    assert "widget-controls" not in html and "widget-add" not in html
    client.post(reverse("dashboards:copy"), {"dashboard_id": published.pk})
    html = client.get("/").content.decode()
    assert "widget-controls" in html and 'id="widget-add"' in html


def test_the_admin_page_lists_published_dashboards_to_unpublish(client, org):
    published = board(org.sales_head, "Sales board", department_id=org.dept.sales.pk)
    client.force_login(org.member_a)
    assert client.get(reverse("dashboards:dashboard_admin")).status_code == 404
    client.force_login(org.admin)
    page = client.get(reverse("dashboards:dashboard_admin")).content.decode()
    assert "Sales board" in page and "Sales" in page
    client.post(
        reverse("dashboards:change", args=[published.pk]), {"action": "unpublish", "next": "admin"}
    )
    published.refresh_from_db()
    assert published.department_id is None


# -- API ---------------------------------------------------------------------------------------


def test_the_api_writes_dashboards_and_widgets_and_reads_data_for_its_caller(org, people):
    view = sales_view(org)
    head = Api(org.sales_head)
    created = head.post("/dashboards", {"name": "Sales", "department_id": org.dept.sales.pk})
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert (
        Api(org.member_a)
        .post("/dashboards", {"name": "X", "department_id": org.dept.team1.pk})
        .status_code
        == 403
    )
    kinds = {k["kind"] for k in head.get("/dashboards/widget-kinds").json()}
    assert "view_chart" in kinds
    widget = head.post(
        f"/dashboards/{pk}/widgets",
        {"kind": "saved_view", "settings": {"view_id": view.pk, "rows": 10}, "width": 3},
    )
    assert widget.status_code == 201 and widget.json()["reads"] == "contacts.person"
    wid = widget.json()["id"]
    bad = head.post(
        f"/dashboards/{pk}/widgets", {"kind": "view_chart", "settings": {"view_id": view.pk}}
    )
    assert bad.status_code == 422 and "group_by" in bad.json()["errors"]
    member = Api(org.member_a)
    listed = member.get("/dashboards").json()
    assert [d["name"] for d in listed] == ["Sales"] and not listed[0]["may_change"]
    rows = member.get(f"/dashboards/widgets/{wid}/data").json()["rows"]
    assert {r["title"] for r in rows} == {"Olga", "Pavel"}
    assert member.patch(f"/dashboards/widgets/{wid}", {"width": 1}).status_code == 403
    assert Api(org.support_member).get(f"/dashboards/widgets/{wid}/data").status_code == 404
    patched = head.patch(f"/dashboards/widgets/{wid}", {"width": 1, "height": "small"})
    assert patched.json()["width"] == 1 and patched.json()["height"] == "small"
    unpublished = head.patch(f"/dashboards/{pk}", {"department_id": None})
    assert unpublished.json()["published_to"] is None
    assert member.get(f"/dashboards/{pk}").status_code == 404
    assert head.send("delete", f"/dashboards/widgets/{wid}").status_code == 204
    assert head.send("delete", f"/dashboards/{pk}").status_code == 204
    assert not Widget.objects.exists() and not Dashboard.objects.exists()


def test_a_widget_of_a_type_the_viewer_may_not_view_is_not_shown(org):
    mine = board(org.member_a)
    add(mine, "my_tasks", org.member_a)
    assert widgets.get("my_tasks").reads({}) == "activities.task"
    assert services.home_widgets_of(mine, org.member_a) == [mine.widgets.get()]
    assert services.home_widgets_of(mine, org.nobody) == []  # no grant on tasks


def test_amounts_are_added_per_currency_and_grouped_by_a_choice_filter(org):
    deals = types.get("sales.deal")
    for title, amount, currency in (("A", "100", "EUR"), ("B", "50.25", "EUR"), ("C", "7", "USD")):
        sales.create_deal(
            {"title": title, "amount": amount, "currency": currency}, actor=org.member_a
        )
    sales.create_deal({"title": "Theirs", "amount": "1000", "currency": "EUR"}, actor=org.member_c)
    view = views.create(deals, {"name": "Deals", "query": {"status": "open"}}, actor=org.member_a)
    mine = board(org.member_a)
    metric = add(mine, "metric", org.member_a, view_id=view.pk, measure="sum.amount")
    figures = widgets.get("metric").read(org.member_a, metric)["figures"]
    assert [(f["currency"], f["value"]) for f in figures] == [
        ("EUR", Decimal("150.25")),
        ("USD", Decimal("7.00")),
    ]
    chart = add(mine, "view_chart", org.member_a, view_id=view.pk, group_by="stage")
    drawn = widgets.get("view_chart").read(org.member_a, chart)["chart"]
    assert drawn.labels == ["Sales · Lead"] and drawn.series[0].values == [3]
    assert "stage_id=" in drawn.series[0].urls[0] and "status=open" in drawn.series[0].urls[0]
