"""In a browser, issue 16's salesperson: a list filtered by a custom field, sorted by a
formula field and grouped, saved as a view and kept in the main menu; its chart put on
the dashboard and found after a reload. (Publishing a dashboard and switching sales off
for a department: test_dashboard_flow.py and test_modules_flow.py.)"""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .conftest import log_in
from .test_dashboard_flow import settled, tiers  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture
def scored(org, request):
    """Olga and Pavel (gold), Rita (silver), and points from the first name's length."""
    request.getfixturevalue("tiers")
    from kontor.core.customfields import services as fields

    fields.create_field(
        actor=org.admin,
        object_type="contacts.person",
        name="points",
        label="Points",
        kind="formula",
        formula="len(first_name) * 10",
    )


def test_a_view_filtered_by_a_custom_field_and_sorted_by_a_formula_goes_to_the_dashboard(
    new_page, org, scored
):
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    page.goto("/people/?custom=tier%3Agold&sort=-cf.points&cols=name&cols=cf.points")
    titles = page.locator("#list-results .row-title")
    expect(titles).to_have_text(["Pavel", "Olga"])  # 50, 40 points
    page.get_by_test_id("group-by").select_option(label="Tier")  # htmx, in place
    expect(page).to_have_url(re.compile(r"group=cf\.tier"))
    expect(page.get_by_test_id("group-row")).to_have_text(re.compile(r"Gold\s+2"))

    save = page.get_by_test_id("save-view")
    save.locator("summary").click()
    save.get_by_label("Name").fill("Gold by points")
    save.get_by_role("button", name="Save view").click()
    expect(page.locator(".flash-success")).to_contain_text("View saved: Gold by points")
    expect(titles).to_have_text(["Pavel", "Olga"])

    page.get_by_test_id("saved-views").locator("summary").first.click()
    page.get_by_role("button", name="Keep in the menu").click()
    expect(page.get_by_test_id("pinned-view")).to_have_text(re.compile("Gold by points"))

    page.goto("/")
    page.get_by_test_id("make-own").click()
    add = page.get_by_test_id("widget-add")
    add.get_by_label("Widget", exact=True).select_option("view_chart")
    settled(page)
    add.get_by_label("Saved view").select_option(label="People: Gold by points")
    settled(page)
    add.get_by_label("Group by").select_option(label="Tier")
    add.get_by_role("button", name="Add widget").click()
    expect(page.locator('[data-kind="view_chart"]')).to_contain_text("Gold by points: Tier")
    page.reload()
    chart = page.locator('[data-kind="view_chart"]')
    expect(chart.locator("table")).to_contain_text("Gold")
    expect(chart.locator("table")).not_to_contain_text("Silver")  # the view's filter holds
    page.get_by_test_id("pinned-view").click()  # the view from the main menu
    expect(titles).to_have_text(["Pavel", "Olga"])
