"""In a browser: a user puts a chart of a saved view on their dashboard (htmx, no reload)
and finds it after a reload, also on a phone; a head publishes a dashboard to the
department and a member of it sees it."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e


def settled(page):
    """Wait until htmx has swapped and settled what it fetched (a select changed before
    htmx processed it would send nothing)."""
    busy = page.locator(".htmx-request, .htmx-settling, .htmx-swapping, .htmx-added")
    expect(busy).to_have_count(0)


@pytest.fixture
def tiers(org):
    from kontor.contacts import services as contacts
    from kontor.core.customfields import services as fields

    fields.create_field(
        actor=org.admin,
        object_type="contacts.person",
        name="tier",
        label="Tier",
        kind="choice",
        choices=[{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}],
    )
    for first, tier in (("Olga", "gold"), ("Pavel", "gold"), ("Rita", "silver")):
        contacts.create_person({"first_name": first, "custom": {"tier": tier}}, actor=org.member_a)


def test_a_chart_of_a_saved_view_is_added_and_found_after_a_reload(new_page, org, tiers):
    from kontor.core import types
    from kontor.savedviews import services as views

    views.create(types.get("contacts.person"), {"name": "My clients"}, actor=org.member_a)
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    page.get_by_test_id("make-own").click()
    expect(page.locator(".flash-success")).to_contain_text("The dashboard is yours now")

    add = page.get_by_test_id("widget-add")
    add.get_by_label("Widget", exact=True).select_option("view_chart")
    settled(page)  # the form again, its new selects ready for htmx
    add.get_by_label("Saved view").select_option(label="People: My clients")
    settled(page)
    add.get_by_label("Group by").select_option(label="Tier")  # shown once the view is chosen
    page.evaluate("window.notReloaded = true")
    add.get_by_role("button", name="Add widget").click()
    chart = page.locator('[data-kind="view_chart"]')
    expect(chart).to_contain_text("My clients: Tier")
    expect(chart.locator("table")).to_contain_text("Gold")
    assert page.evaluate("window.notReloaded") is True  # swapped in place by htmx

    settled(page)  # the swapped-in widget's controls bound by htmx
    chart.get_by_label("Width").select_option("4")
    expect(page.locator('[data-kind="view_chart"].w-4')).to_have_count(1)
    page.reload()
    expect(page.locator('[data-kind="view_chart"].w-4')).to_contain_text("Gold")
    expect(page.locator('[data-kind="view_chart"] canvas')).to_be_visible()

    phone = new_page(viewport={"width": 390, "height": 844})
    log_in(phone, "anna@example.com", PASSWORD)
    expect(phone.locator('[data-kind="view_chart"]')).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    widths = phone.locator('[data-testid="widget"]').evaluate_all(
        "nodes => nodes.map(n => n.getBoundingClientRect().width)"
    )
    assert len(set(round(w) for w in widths)) == 1  # one column: every widget as wide
    phone.screenshot(path="/tmp/kontor-dashboard-390.png", full_page=True)


def test_a_head_publishes_a_dashboard_and_a_member_sees_it(new_page, org):
    head = new_page()
    log_in(head, "head@example.com", PASSWORD)
    head.get_by_test_id("make-own").click()
    head.get_by_label("Publish to").select_option(label="Sales")
    head.get_by_test_id("publish").click()
    expect(head.get_by_test_id("published-to")).to_contain_text("Published to Sales")

    member = new_page()
    log_in(member, "clara@example.com", PASSWORD)  # Sales Team 2: below Sales
    expect(member.get_by_test_id("published-by")).to_contain_text(
        "Published by head@example.com to Sales"
    )
    expect(member.locator(".widget-controls")).to_have_count(0)  # read-only
    member.get_by_test_id("make-own").click()
    expect(member.locator(".widget-controls").first).to_be_visible()
