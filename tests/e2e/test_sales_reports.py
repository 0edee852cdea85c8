"""The sales reports page in a real browser, on a phone's width: the charts are drawn
under the Content-Security-Policy, they stack one under another, nothing overflows the
screen sideways, and a figure's link opens its deals."""

import os

import pytest

from tests.conftest import PASSWORD
from tests.sales.conftest import history  # noqa: F401 (a fixture)

from .conftest import log_in
from .test_charts import PAINTED_PIXELS, RECORD_VIOLATIONS

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("history")]

SCREENSHOTS = os.environ.get("KONTOR_SCREENSHOTS", "")


def test_the_reports_stack_on_a_phone_and_open_their_deals(new_page, org):
    page = new_page({"width": 390, "height": 844})
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, org.member_a.email, PASSWORD)
    page.goto("/deals/reports/?year=2026")
    funnel = page.locator("#chart-funnel canvas")
    funnel.wait_for()
    page.wait_for_function("() => window.Chart !== undefined")
    page.wait_for_timeout(300)
    assert funnel.evaluate(PAINTED_PIXELS) > 100
    assert page.evaluate("window.__cspViolations") == []
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    first = page.locator("#chart-funnel").bounding_box()
    second = page.locator("#chart-conversion").bounding_box()
    assert second["y"] >= first["y"] + first["height"]  # under it, not beside it
    assert first["width"] <= 390
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/sales-reports-phone.png", full_page=True)
    # The controls are a plain form: a keyboard changes the quarter and submits.
    page.select_option("#id_quarter", "1")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**quarter=1**")
    page.locator("#chart-funnel table a").first.click()
    page.wait_for_url("**/deals/?**reached_stage_id=**")
    assert page.locator('[data-testid="filter-chip"]').count() == 2
