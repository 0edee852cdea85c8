"""The top bar in Chromium: the menu's entries on one line beside a usable search box,
or folded behind the menu button where they would not fit, in each language."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e

BAR = """() => {
  const box = (e) => e.getBoundingClientRect();
  const links = [...document.querySelectorAll('.main-nav a')].filter((a) => box(a).width > 0);
  return {
    rows: new Set(links.map((a) => Math.round(box(a).top))).size,
    shown: links.length,
    tallest: Math.max(0, ...links.map((a) => Math.round(box(a).height))),
    search: Math.round(box(document.querySelector('.global-search')).width),
    overflow: document.documentElement.scrollWidth > window.innerWidth,
  };
}"""


@pytest.mark.parametrize("language", ["en", "fr", "ru"])
def test_the_menu_fits_the_top_bar_or_folds(new_page, org, language):
    org.admin.language = language
    org.admin.save(update_fields=["language"])
    page = new_page({"width": 1536, "height": 864})
    log_in(page, "admin@example.com", PASSWORD)
    page.goto("/products/")

    wide = page.evaluate(BAR)
    assert wide["shown"] >= 8 and wide["rows"] == 1, wide
    assert wide["tallest"] < 40, wide  # no entry broken over two lines
    assert wide["search"] >= 150 and not wide["overflow"], wide

    page.set_viewport_size({"width": 1024, "height": 800})
    folded = page.evaluate(BAR)
    assert folded["shown"] == 0 and folded["search"] >= 300 and not folded["overflow"], folded
    page.locator("[data-nav-toggle]").click()
    opened = page.evaluate(BAR)
    assert opened["shown"] == wide["shown"] and not opened["overflow"], opened
    expect(page.locator(".main-nav a[aria-current='page']")).to_be_visible()
