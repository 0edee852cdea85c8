"""A chart of a saved view groups as its list does (``RecordType.groupings``), reads its
figures in one grouped query, and each bar opens the list of exactly the records it
counted: following every bar's link of every grouping shows that many records, none twice,
all of the view's together, the group without a value included."""

import importlib
import itertools
import re
from html import unescape

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kontor.activities import services as tasks
from kontor.contacts import services as contacts
from kontor.contacts.models import Person
from kontor.core import types
from kontor.core.customfields import services as field_services
from kontor.dashboards import services, widgets
from kontor.dashboards.models import Widget
from kontor.sales import services as sales
from kontor.savedviews import services as views
from tests.utils.clients import Api

PEOPLE = types.get("contacts.person")
_boards = itertools.count()


def row_names(html: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'class="row-title"[^>]*>([^<]+)<', html)]


def chart_of(user, view, group_by):
    board = services.create_dashboard({"name": f"Board {next(_boards)}"}, actor=user)
    given = {"view_id": str(view.pk), "group_by": group_by, "measure": "count"}
    widget = services.add_widget(board, "view_chart", given, actor=user)
    return widgets.get("view_chart").read(user, widget)["chart"]


def followed(client, chart) -> dict[str, list[str]]:
    """Each bar's label -> the names its link's list shows."""
    series = chart.series[0]
    found = {}
    for label, url in zip(chart.labels, series.urls, strict=True):
        assert url, label
        found[label] = row_names(client.get(url).content.decode())
    return found


def assert_links_hold_the_counted_records(client, user, view, group_by, expected_names):
    chart = chart_of(user, view, group_by)
    counted = dict(zip(chart.labels, chart.series[0].values, strict=True))
    shown = followed(client, chart)
    assert {label: len(names) for label, names in shown.items()} == counted, group_by
    every = [name for names in shown.values() for name in names]
    assert sorted(every) == sorted(expected_names), group_by
    return shown


@pytest.fixture
def people_fields(org):
    regions = [{"key": "north", "label": "North"}, {"key": "south", "label": "South"}]
    return [
        field_services.create_field(
            actor=org.admin, object_type="contacts.person", name=name, label=label, **kind
        )
        for name, label, kind in (
            ("region", "Region", {"kind": "choice", "choices": regions}),
            ("vip", "VIP", {"kind": "boolean"}),
        )
    ]


def test_every_people_grouping_links_each_bar_to_exactly_its_records(client, org, people_fields):
    made = []
    for first, actor, custom in (
        ("Anna", org.member_a, {"region": "north", "vip": True}),
        ("Boris", org.member_a, {"region": "south", "vip": False}),
        ("Clara", org.member_c, {"region": "north"}),
        ("Dora", org.admin, {}),
        ("Egor", org.admin, {"vip": True}),
    ):
        made.append(contacts.create_person({"first_name": first, "custom": custom}, actor=actor))
    # Records without an owner or a department: the groups of "no value".
    Person.objects.filter(first_name__in=["Dora", "Egor"]).update(owner=None, department=None)
    view = views.create(PEOPLE, {"name": "Everyone", "query": {"sort": "name"}}, actor=org.admin)
    client.force_login(org.admin)
    names = [person.first_name for person in made]
    for key in PEOPLE.groupings(org.admin):
        assert_links_hold_the_counted_records(client, org.admin, view, key, names)
    by_owner = assert_links_hold_the_counted_records(client, org.admin, view, "owner", names)
    assert sorted(by_owner["None"]) == ["Dora", "Egor"]
    # The list's export and the API take the same "none".
    unowned = Api(org.admin).get("/people?owner_id=none&department_id=none").json()
    assert sorted(p["first_name"] for p in unowned["items"]) == ["Dora", "Egor"]
    by_region = assert_links_hold_the_counted_records(client, org.admin, view, "cf.region", names)
    assert by_region == {"North": ["Anna", "Clara"], "None": ["Dora", "Egor"], "South": ["Boris"]}
    # Bars in the grouping's order (the field's choices), the group without a value last.
    assert list(by_region) == ["North", "South", "None"]
    chart = chart_of(org.admin, view, "cf.region")
    empty = client.get(chart.series[0].urls[chart.labels.index("None")]).content.decode()
    assert '<option value="region__empty:" selected>' in empty  # the list says its filter
    by_vip = assert_links_hold_the_counted_records(client, org.admin, view, "cf.vip", names)
    assert sorted(by_vip["Yes"]) == ["Anna", "Egor"] and by_vip["No"] == ["Boris"]


def test_a_bar_counts_what_its_reader_sees_and_links_within_the_view(client, org, people_fields):
    for first, actor, region in (
        ("Anna", org.member_a, "north"),
        ("Boris", org.member_a, "south"),
        ("Clara", org.member_c, "north"),  # outside member A's team
        ("Dora", org.member_a, "north"),
    ):
        contacts.create_person({"first_name": first, "custom": {"region": region}}, actor=actor)
    view = views.create(
        PEOPLE, {"name": "North", "query": {"custom": ["region:north"]}}, actor=org.member_a
    )
    client.force_login(org.member_a)
    shown = assert_links_hold_the_counted_records(
        client, org.member_a, view, "owner", ["Anna", "Dora"]
    )
    assert list(shown) == [str(org.member_a)]
    assert_links_hold_the_counted_records(client, org.member_a, view, "cf.region", ["Anna", "Dora"])


def test_task_and_deal_groupings_link_to_their_records(client, org):
    for title, status, priority in (
        ("Call", "open", 3),
        ("Write", "done", 1),
        ("Visit", "open", 2),
        ("Plan", "in_progress", 3),
    ):
        task = tasks.create_task(
            {"title": title, "assignee_id": org.member_a.pk, "priority": priority},
            actor=org.member_a,
        )
        if status != "open":
            tasks.update_task(task, {"status": status}, actor=org.member_a)
    task_view = views.create(types.get("activities.task"), {"name": "Tasks"}, actor=org.member_a)
    for title, currency in (("Big", "EUR"), ("Small", "USD")):
        sales.create_deal(
            {"title": title, "amount": "10", "currency": currency}, actor=org.member_a
        )
    deal_view = views.create(types.get("sales.deal"), {"name": "Deals"}, actor=org.member_a)
    client.force_login(org.member_a)
    titles = ["Call", "Write", "Visit", "Plan"]
    by_status = assert_links_hold_the_counted_records(
        client, org.member_a, task_view, "status", titles
    )
    assert sorted(by_status["Open"]) == ["Call", "Visit"]
    assert list(by_status) == ["Open", "In progress", "Done"]  # as the choices run
    by_priority = assert_links_hold_the_counted_records(
        client, org.member_a, task_view, "priority", titles
    )
    assert sorted(by_priority["High"]) == ["Call", "Plan"]
    for key in ("stage", "pipeline", "currency", "owner", "department"):
        assert_links_hold_the_counted_records(
            client, org.member_a, deal_view, key, ["Big", "Small"]
        )


def test_a_view_filtered_otherwise_on_the_groups_filter_gives_no_link(org):
    for title in ("Call", "Write"):
        tasks.create_task({"title": title, "assignee_id": org.member_a.pk}, actor=org.member_a)
    view = views.create(
        types.get("activities.task"),
        {"name": "To do", "query": {"status": "active"}},
        actor=org.member_a,
    )
    chart = chart_of(org.member_a, view, "status")
    # "Open" within "to do" is no one value of the status filter: the bar links nowhere.
    assert chart.labels == ["Open"] and chart.series[0].values == [2]
    assert chart.series[0].urls == [""]


def test_a_chart_reads_its_figures_in_one_grouped_query(org, people_fields):
    for n in range(6):
        region = ("north", "south", None)[n % 3]
        custom = {"region": region} if region else {}
        contacts.create_person({"first_name": f"P{n}", "custom": custom}, actor=org.admin)
    view = views.create(PEOPLE, {"name": "All"}, actor=org.admin)
    board = services.create_dashboard({"name": "Board"}, actor=org.admin)
    given = {"view_id": str(view.pk), "group_by": "cf.region", "measure": "count"}
    widget = services.add_widget(board, "view_chart", given, actor=org.admin)
    with CaptureQueriesContext(connection) as captured:
        widgets.get("view_chart").read(org.admin, widget)
    statements = [q["sql"] for q in captured.captured_queries]
    grouped = [sql for sql in statements if "GROUP BY" in sql]
    assert len(grouped) == 1
    assert [sql for sql in statements if "COUNT(" in sql] == grouped


def test_a_chart_stored_grouped_by_a_choice_filter_is_moved_to_the_list_grouping(org):
    """Charts stored before the list's groupings served them (``dashboards.0002``)."""
    migration = importlib.import_module("kontor.dashboards.migrations.0002_chart_list_groupings")
    sales.create_deal({"title": "Big", "amount": "10"}, actor=org.member_a)
    view = views.create(types.get("sales.deal"), {"name": "Deals"}, actor=org.member_a)
    board = services.create_dashboard({"name": "Old"}, actor=org.member_a)
    stored = {
        "view_id": view.pk,
        "type": "sales.deal",
        "group_by": "filter.stage_id",
        "measure": "count",
    }
    old = Widget.objects.create(dashboard=board, kind="view_chart", settings=stored)
    unknown = Widget.objects.create(
        dashboard=board, kind="view_chart", settings={**stored, "group_by": "filter.status"}
    )
    migration.forwards(django_apps, None)
    old.refresh_from_db()
    unknown.refresh_from_db()
    assert old.settings["group_by"] == "stage"
    chart = widgets.get("view_chart").read(org.member_a, old)["chart"]
    assert chart.labels == ["Sales · Lead"] and chart.series[0].values == [1]
    assert "unavailable" in widgets.get("view_chart").read(org.member_a, unknown)
    migration.backwards(django_apps, None)
    old.refresh_from_db()
    assert old.settings["group_by"] == "filter.stage_id"
