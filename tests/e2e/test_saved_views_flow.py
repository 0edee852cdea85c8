"""In a browser: a list narrowed in place (htmx) and sorted is saved as a view, which
opens the list in that state again."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e


def test_a_list_changed_in_place_is_saved_as_a_view_and_reopened(new_page, org):
    from kontor.contacts import services

    for name, owner in (("Mine", org.member_a), ("Colleague", org.member_b)):
        services.create_person({"first_name": name}, actor=owner)
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    page.goto("/people/")
    page.get_by_label("My records").check()  # htmx: the address changes, the page stays
    expect(page).to_have_url(re.compile(r"mine=true"))
    expect(page.get_by_test_id("pager-info")).to_have_text("1–1 of 1")

    page.get_by_test_id("save-view").locator("summary").click()
    page.get_by_test_id("save-view").get_by_label("Name").fill("Just mine")
    page.get_by_test_id("save-view").get_by_role("button", name="Save view").click()
    expect(page.locator(".flash-success")).to_contain_text("View saved: Just mine")

    page.goto("/people/")
    expect(page.get_by_test_id("pager-info")).to_have_text("1–2 of 2")
    page.get_by_test_id("saved-views").locator("summary").first.click()
    page.get_by_role("link", name="Just mine").click()
    expect(page.get_by_test_id("pager-info")).to_have_text("1–1 of 1")
    expect(page.get_by_label("My records")).to_be_checked()
