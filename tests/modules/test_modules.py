"""Modules switched on and off (issue 16): the registry, the switches and their
inheritance, what a switched-off module leaves (menu, home, search, pages, API, pickers,
timelines, settings), timers paused and resumed, the settings page and /api/v1/modules,
and the audit of every change."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kontor.activities import services as activities
from kontor.activities.models import Notification
from kontor.contacts import services as contacts
from kontor.core import modules, timers
from kontor.core.errors import NotFound, ValidationFailed
from kontor.core.models import AuditEntry, Timer
from kontor.modules import services
from kontor.modules.models import ModuleSwitch
from kontor.modules.services import Change
from kontor.sales import services as sales
from tests.utils.clients import Api, browser


def switch(actor, code, on, department=None):
    return services.apply([Change(code, department.pk if department else None, on)], actor=actor)


@pytest.fixture
def deal(org):
    return sales.create_deal({"title": "Warehouse racks ZQX"}, actor=org.support_member)


# -- the registry --------------------------------------------------------------------------


def test_every_built_in_module_names_what_it_owns_and_the_platform_stays_on(org):
    codes = [module.code for module in modules.all_modules()]
    assert codes == ["contacts", "tasks", "sales", "products"]
    sales_module = modules.get("sales")
    assert sales_module.object_types == ("sales.deal",) and sales_module.routers
    tasks = modules.get("tasks")
    # The calendar joins "tasks and calendar" from its own app.
    assert "calendar.meeting" in tasks.object_types and "calendar:*" in tasks.pages
    assert "calendar.meeting_reminder" in tasks.timer_kinds
    switch(org.admin, "sales", False)
    user = org.member_a
    assert not modules.page_enabled(user, "sales:deal_list")
    assert not modules.page_enabled(user, "sales:pipeline_settings")
    assert not modules.type_enabled(user, "sales.deal")
    for platform_page in ("web:search", "accounts:user_list", "objects:record_list", "web:home"):
        assert modules.page_enabled(user, platform_page)
    with pytest.raises(ValueError):
        modules.register(modules.Module("sales", "Sales again"))


# -- inheritance ----------------------------------------------------------------------------


def test_a_department_follows_its_parent_unless_set_and_superusers_follow_where_it_is_in_use(org):
    dept = org.dept
    switch(org.admin, "sales", False, dept.sales)
    assert not modules.enabled(org.sales_head, "sales")
    assert not modules.enabled(org.member_a, "sales")  # Sales Team 1 inherits from Sales
    assert modules.enabled(org.support_member, "sales")
    switch(org.admin, "sales", True, dept.team1)
    assert modules.enabled(org.member_a, "sales") and not modules.enabled(org.member_c, "sales")
    # Off for the company: on only where a department says so.
    switch(org.admin, "sales", False)
    assert not modules.enabled(org.support_member, "sales")
    assert modules.enabled(org.member_a, "sales")
    assert modules.enabled(org.superuser, "sales")  # in use somewhere
    switch(org.admin, "sales", None, dept.team1)  # follows its parent again
    assert not modules.enabled(org.member_a, "sales")
    assert not modules.enabled(org.superuser, "sales")
    assert "sales" in modules.off_for(org.nobody)
    switch(org.admin, "sales", True)
    # A department's override outlives the company's switch being turned back on.
    assert not modules.enabled(org.sales_head, "sales") and modules.enabled(org.admin, "sales")
    assert modules.enabled(org.superuser, "sales")


def test_every_change_is_audited_and_nothing_unchanged_writes(org):
    assert switch(org.admin, "sales", False, org.dept.support) == 1
    assert switch(org.admin, "sales", False, org.dept.support) == 0
    assert switch(org.admin, "sales", True, org.dept.support) == 1
    assert switch(org.admin, "sales", None, org.dept.support) == 1
    assert switch(org.admin, "sales", None, org.dept.support) == 0
    rows = AuditEntry.objects.filter(action__startswith="modules.moduleswitch.").order_by("id")
    assert [row.action.rsplit(".", 1)[1] for row in rows] == ["created", "updated", "deleted"]
    assert {row.actor_id for row in rows} == {org.admin.pk}
    assert rows[0].changes["enabled"] == [None, False]
    assert rows[0].changes["department_id"] == [None, org.dept.support.pk]
    assert rows[1].changes == {"enabled": [False, True]}
    assert not ModuleSwitch.objects.exists()


def test_bad_changes_write_nothing_and_only_managers_switch(org):
    with pytest.raises(ValidationFailed) as refused:
        services.apply(
            [Change("sales", None, False), Change("nosuch", None, False)], actor=org.admin
        )
    assert "module" in refused.value.errors
    with pytest.raises(ValidationFailed):
        services.apply([Change("sales", 987654, False)], actor=org.admin)
    with pytest.raises(ValidationFailed):
        services.apply([Change("sales", None, None)], actor=org.admin)
    assert not ModuleSwitch.objects.exists()
    for user in (org.sales_head, org.member_a, org.nobody):
        with pytest.raises(NotFound):
            switch(user, "sales", False)
    assert switch(org.superuser, "sales", False) == 1


# -- what a switched-off module leaves -----------------------------------------------------


def test_a_warehouse_member_loses_deals_everywhere_and_a_sales_member_keeps_them(org, deal):
    switch(org.admin, "sales", False, org.dept.support)
    warehouse, seller = org.support_member, org.member_a
    deals_url = reverse("sales:deal_list")
    for user, sees in ((warehouse, False), (seller, True)):
        page = browser(user)
        home = page.get("/").content.decode()
        assert (f'href="{deals_url}"' in home) is sees  # the menu
        assert ('data-testid="deals-count"' in home) is sees  # the home widget
        assert (page.get(deals_url).status_code == 200) is sees
        assert (page.get(reverse("sales:board")).status_code == 200) is sees
        assert (page.get("/deals/reports/").status_code == 200) is sees
        api = Api(user)
        assert (api.get("/deals").status_code == 200) is sees
        assert (api.get("/pipelines").status_code == 200) is sees  # a sub-router's too
        assert api.get("/people").status_code == 200  # other modules stay
    warehouse_api = Api(warehouse)
    for path in ("/deals", "/deals/export", "/pipelines"):
        answer = warehouse_api.get(path)
        assert answer.status_code == 404 and answer.json()["detail"] == "Not found."
    assert warehouse_api.post("/deals", {"title": "x"}).status_code == 404
    assert warehouse_api.get(f"/deals/{deal.pk}").status_code == 404
    assert browser(warehouse).get(reverse("sales:deal_create")).status_code == 404
    search = warehouse_api.get("/search?q=zqx").json()["groups"]
    assert "sales.deal" not in {group["type"] for group in search}
    switch(org.admin, "sales", None, org.dept.support)
    assert warehouse_api.get(f"/deals/{deal.pk}").status_code == 200
    assert f'href="{deals_url}"' in browser(warehouse).get("/").content.decode()


def test_imports_leave_a_switched_off_modules_types_out(org, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    switch(org.admin, "sales", False, org.dept.support)
    offered = browser(org.support_member).get(reverse("imports:list")).content.decode()
    assert 'value="contacts.person"' in offered and 'value="sales.deal"' not in offered
    client.force_login(org.support_member)
    for kind, expected in (("deals", 404), ("people", 200)):
        upload = SimpleUploadedFile("rows.csv", b"Title,Name\r\nRacks,Ann\r\n")
        answer = client.post("/api/v1/imports/preview", {"file": upload, "type": kind})
        assert answer.status_code == expected, (kind, answer.content)
    switch(org.admin, "sales", None, org.dept.support)
    assert (
        'value="sales.deal"'
        in browser(org.support_member).get(reverse("imports:list")).content.decode()
    )


def test_search_suggestions_pickers_timelines_and_related_leave_the_module_out(org):
    person = contacts.create_person({"first_name": "Zqx", "last_name": "Racks"}, actor=org.admin)
    sales.create_deal({"title": "Zqx racks deal", "person_id": person.pk}, actor=org.admin)
    activities.create_task(
        {"title": "Call Zqx racks", "links": [f"person:{person.pk}"]}, actor=org.admin
    )
    api, page = Api(org.admin), browser(org.admin)
    related_url = reverse("contacts:person_tab", args=[person.pk, "related"])
    timeline_url = reverse("contacts:person_tab", args=[person.pk, "timeline"])

    def found_types():
        return {g["type"] for g in api.get("/search?q=zqx").json()["groups"] if g["items"]}

    def shown(url, text):
        return text in page.get(url).content.decode()

    assert found_types() == {"contacts.person", "sales.deal", "activities.task"}
    assert shown(related_url, "Zqx racks deal") and shown(timeline_url, "Call Zqx racks")
    switch(org.admin, "sales", False)
    switch(org.admin, "tasks", False)
    assert found_types() == {"contacts.person"}
    suggest = page.get(reverse("web:search_suggest"), {"q": "zqx"}).content.decode()
    assert "Racks" in suggest and "deal" not in suggest and "Call Zqx" not in suggest
    assert page.get(reverse("web:record_options", args=["sales.deal"])).status_code == 404
    assert page.get(reverse("web:record_options", args=["contacts.person"])).status_code == 200
    assert not shown(related_url, "Zqx racks deal") and not shown(timeline_url, "Call Zqx racks")
    settings_nav = page.get(reverse("accounts:user_list")).content.decode()
    assert reverse("sales:pipeline_settings") not in settings_nav
    assert reverse("modules:module_settings") in settings_nav
    # Switched on again, everything returns: no data was touched.
    switch(org.admin, "sales", True)
    switch(org.admin, "tasks", True)
    assert found_types() == {"contacts.person", "sales.deal", "activities.task"}
    assert shown(related_url, "Zqx racks deal") and shown(timeline_url, "Call Zqx racks")
    assert (
        reverse("sales:pipeline_settings")
        in page.get(reverse("accounts:user_list")).content.decode()
    )


def test_links_into_a_module_off_for_the_reader_show_no_link_and_what_a_task_is_about_hides_it(
    org, deal
):
    company = contacts.create_company({"name": "Racks Holding ZQX"}, actor=org.support_member)
    sales.update_deal(
        deal, {"company_id": company.pk}, actor=org.support_member, expected_version=deal.version
    )
    task = activities.create_task(
        {"title": "Ship the racks", "links": [f"deal:{deal.pk}"]}, actor=org.support_member
    )
    page, api = browser(org.support_member), Api(org.support_member)
    company_link = f'href="{reverse("contacts:company_detail", args=[company.pk])}"'
    task_page = reverse("activities:task_detail", args=[task.pk])
    assert company_link in page.get(reverse("sales:deal_list")).content.decode()
    assert "Warehouse racks ZQX" in page.get(task_page).content.decode()
    assert api.get(f"/tasks/{task.pk}").json()["links"] == [
        {"type": "deal", "id": deal.pk, "name": "Warehouse racks ZQX"}
    ]
    switch(org.admin, "contacts", False, org.dept.support)
    deals = page.get(reverse("sales:deal_list")).content.decode()
    assert "Racks Holding ZQX" in deals and company_link not in deals  # a name, no link
    switch(org.admin, "contacts", None, org.dept.support)
    cards = reverse("sales:board_cards", args=[deal.stage_id])
    assert f'href="{task_page}"' in page.get(cards).content.decode()
    switch(org.admin, "tasks", False, org.dept.support)
    board = page.get(cards).content.decode()
    assert "Ship the racks" in board and f'href="{task_page}"' not in board  # the next task
    switch(org.admin, "tasks", None, org.dept.support)
    switch(org.admin, "sales", False, org.dept.support)
    assert "Warehouse racks ZQX" not in page.get(task_page).content.decode()
    assert api.get(f"/tasks/{task.pk}").json()["links"] == []
    switch(org.admin, "sales", None, org.dept.support)
    assert "Warehouse racks ZQX" in page.get(task_page).content.decode()


# -- timers ------------------------------------------------------------------------------------


def test_reminders_of_a_module_off_everywhere_wait_and_fire_when_it_is_back(org):
    a_minute_ago = timezone.now() - timedelta(minutes=1)
    activities.create_task(
        {"title": "Count the racks", "remind_at": a_minute_ago, "owner_id": org.member_a.pk},
        actor=org.admin,
    )
    switch(org.admin, "tasks", False)
    assert timers.next_due() is None or timers.next_due() > timezone.now()  # no busy wake-up
    assert timers.fire_due() == 0 and not Notification.objects.exists()
    # On for one department only: in use, so its reminders run for everyone's tasks.
    switch(org.admin, "tasks", True, org.dept.support)
    assert "activities.task_reminder" not in modules.paused_timer_kinds()
    switch(org.admin, "tasks", None, org.dept.support)
    assert "activities.task_reminder" in modules.paused_timer_kinds()
    assert timers.fire_due() == 0
    # Other modules' timers are not held: the contacts' daily sweep is not paused.
    assert "activities.important_dates" not in modules.paused_timer_kinds()
    switch(org.admin, "tasks", True)
    assert timers.next_due() <= timezone.now()
    assert timers.fire_due() == 1
    assert Notification.objects.get().recipient_id == org.member_a.pk
    assert Timer.objects.get(kind="activities.task_reminder").status == Timer.Status.FIRED


# -- Settings → Modules and /api/v1/modules -----------------------------------------------------


def test_the_settings_page_is_a_managers_and_asks_before_switching_off(org):
    url = reverse("modules:module_settings")
    for user in (org.sales_head, org.member_a, org.nobody):
        assert browser(user).get(url).status_code == 404
        assert browser(user).post(url, {"sales.company": "off"}).status_code == 404
    page = browser(org.admin)
    shown = page.get(url).content.decode()
    assert "No data is deleted" in shown and "Sales" in shown and "Support" in shown
    field = f"sales.{org.dept.support.pk}"
    asked = page.post(url, {field: "off"})
    assert asked.status_code == 200 and 'data-testid="modules-confirm"' in asked.content.decode()
    assert "Sales for Support" in asked.content.decode()
    assert not ModuleSwitch.objects.exists()  # nothing until confirmed
    saved = page.post(url, {field: "off", "confirmed": "1"})
    assert saved.status_code == 302
    assert not modules.enabled(org.support_member, "sales")
    # The page shows the override, and Support's children inherit it.
    assert '<option value="off" selected>' in page.get(url).content.decode()
    # Switching on needs no confirmation.
    assert page.post(url, {field: "inherit"}).status_code == 302
    assert modules.enabled(org.support_member, "sales")
    assert AuditEntry.objects.filter(action__startswith="modules.moduleswitch.").count() == 2


def test_the_api_lists_and_switches_for_managers_only(org):
    for user in (org.sales_head, org.member_a):
        api = Api(user)
        assert api.get("/modules").status_code == 404
        assert api.patch("/modules/sales", {"enabled": False}).status_code == 404
    api = Api(org.admin)
    listed = api.get("/modules").json()
    assert [m["code"] for m in listed] == ["contacts", "tasks", "sales", "products"]
    assert all(m["enabled"] and m["departments"] == [] for m in listed)
    support = org.dept.support.pk
    answer = api.patch(
        "/modules/sales", {"departments": [{"department_id": support, "enabled": False}]}
    )
    assert answer.status_code == 200
    assert answer.json()["departments"] == [{"department_id": support, "enabled": False}]
    assert answer.json()["enabled"] is True
    assert Api(org.support_member).get("/deals").status_code == 404
    answer = api.patch(
        "/modules/sales",
        {"enabled": False, "departments": [{"department_id": support, "enabled": None}]},
    )
    assert answer.json() | {"label": ""} == {
        "code": "sales",
        "label": "",
        "description": answer.json()["description"],
        "enabled": False,
        "departments": [],
    }
    assert api.patch("/modules/nosuch", {"enabled": False}).status_code == 404
    refused = api.patch(
        "/modules/sales", {"departments": [{"department_id": 987654, "enabled": False}]}
    )
    assert refused.status_code == 422 and "department_id" in refused.json()["errors"]
    assert api.patch("/modules/sales", {"colour": "red"}).status_code == 422
    audit = AuditEntry.objects.filter(action__startswith="modules.moduleswitch.")
    assert audit.count() == 3 and {row.channel for row in audit} == {"api"}


def test_a_request_reads_every_definitions_token_in_one_query(org):
    switch(org.admin, "products", False, org.dept.support)
    api = Api(org.support_member)
    api.get("/deals")  # the process caches filled
    with CaptureQueriesContext(connection) as reads:
        assert api.get("/deals").status_code == 200
        assert api.get("/products").status_code == 404
    stamp_reads = [q for q in reads.captured_queries if "core_definitionstamp" in q["sql"]]
    assert len(stamp_reads) == 2  # one per request: modules, custom fields, object types


def test_the_openapi_document_names_each_operations_module_and_its_404(org):
    paths = Api(org.admin).get("/openapi.json").json()["paths"]
    deals, pipelines, users = (
        paths["/api/v1/deals"]["get"],
        paths["/api/v1/pipelines"]["get"],
        paths["/api/v1/users"]["get"],
    )
    assert deals["x-kontor-module"] == "sales" and "404" in deals["responses"]
    assert pipelines["x-kontor-module"] == "sales" and "404" in pipelines["responses"]
    assert "x-kontor-module" not in users and "404" not in users["responses"]
