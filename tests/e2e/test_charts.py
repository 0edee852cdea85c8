"""Charts in a real browser: Chart.js (from npm) loads and draws under the
Content-Security-Policy, a click on a bar opens the tasks behind it, the CSV downloads,
reduced motion and a narrower window are honoured."""

import csv
import io

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kontor.activities import services
from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""

# Pixels of the canvas that something was drawn on (a blank canvas is all transparent).
PAINTED_PIXELS = """
(canvas) => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  return painted;
}
"""

# Where the first bar of the first series is, in page coordinates: its middle.
FIRST_BAR = """
(canvas) => {
  const bar = Chart.getChart(canvas).getDatasetMeta(0).data[0];
  const box = canvas.getBoundingClientRect();
  return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
}
"""


def console_error(message) -> bool:
    """An error on the console, except htmx logging its live-notification stream's
    EventSource event (the test server does not keep that stream open)."""
    from_htmx = "/django_htmx/" in message.location.get("url", "")
    return message.type == "error" and not (from_htmx and message.text == "[object Event]")


@pytest.fixture
def tasks(org):
    for status in ["open", "open", "open", "in_progress", "done"]:
        services.create_task({"title": f"Task {status}", "status": status}, actor=org.member_a)
    # Outside Anna's department: never in her figures.
    services.create_task({"title": "Clara's", "status": "open"}, actor=org.member_c)


def test_a_chart_draws_opens_its_records_and_downloads_its_figures(new_page, org, tasks):
    page = new_page()
    problems = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda m: console_error(m) and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    log_in(page, "anna@example.com", PASSWORD)
    page.emulate_media(reduced_motion="reduce")
    page.goto(reverse("activities:task_list"))
    page.get_by_role("link", name="Report").click()
    page.wait_for_url("**" + reverse("activities:task_report"))

    boxes = page.locator("[data-chart]")
    expect(boxes).to_have_count(2)
    for index in range(2):
        expect(boxes.nth(index)).to_have_attribute("data-chart-state", "drawn")
    canvas = page.locator("#chart-tasks-by-status canvas")
    assert canvas.evaluate(PAINTED_PIXELS) > 1000
    assert page.locator("#chart-tasks-to-do-by-assignee canvas").evaluate(PAINTED_PIXELS) > 1000
    # Reduced motion: drawn at once, no animation.
    assert canvas.evaluate("(c) => Chart.getChart(c).options.animation") is False
    # The table says the same as the picture.
    expect(page.locator("#chart-tasks-by-status tbody tr").first).to_contain_text("Open")
    expect(page.locator("#chart-tasks-by-status tbody tr").first).to_contain_text("3")

    # A narrower window: the chart is redrawn to its new width.
    wide = canvas.evaluate("(c) => Chart.getChart(c).width")
    page.set_viewport_size({"width": 600, "height": 800})
    page.wait_for_function(
        "([c, w]) => Chart.getChart(c).width < w", arg=[canvas.element_handle(), wide]
    )

    # The CSV link downloads the table's figures.
    with page.expect_download() as download:
        page.locator("#chart-tasks-by-status").get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("tasks-by-status-")
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert list(csv.reader(io.StringIO(text))) == [
        ["Status", "Tasks"],
        ["Open", "3"],
        ["In progress", "1"],
        ["Done", "1"],
        ["Cancelled", "0"],
    ]

    # A click on the "Open" bar opens the list of those three tasks.
    point = canvas.evaluate(FIRST_BAR)
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/tasks/?status=open")
    expect(page.locator("input[name=ids]")).to_have_count(3)

    problems += page.evaluate("window.__cspViolations")
    assert not problems, "\n".join(problems)


@pytest.mark.urls("tests.e2e.chart_kinds_urls")
def test_every_kind_of_chart_draws_without_an_error(new_page):
    page = new_page()
    problems = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda m: console_error(m) and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto("/chart-kinds/")
    boxes = page.locator("[data-chart]")
    expect(boxes).to_have_count(6)
    for index in range(6):
        expect(boxes.nth(index)).to_have_attribute("data-chart-state", "drawn")
        assert boxes.nth(index).locator("canvas").evaluate(PAINTED_PIXELS) > 1000
    # A funnel's bar spans its figure, centred: the tooltip and table say the figure itself.
    funnel = page.locator("#chart-funnel canvas")
    assert funnel.evaluate("(c) => Chart.getChart(c).data.datasets[0].data[0]") == [-600.25, 600.25]
    problems += page.evaluate("window.__cspViolations")
    assert not problems, "\n".join(problems)
