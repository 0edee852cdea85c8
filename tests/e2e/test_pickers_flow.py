"""In a browser: "My records" narrows the list; a bulk tag on a mixed selection names
what it skipped."""

import re

import pytest
from playwright.sync_api import expect

from kontor.contacts.models import Person
from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e


def test_my_records_and_a_bulk_tag_that_skips_a_colleagues_record(new_page, org):
    from kontor.contacts import services

    services.create_person({"first_name": "Mine"}, actor=org.member_a)
    services.create_person({"first_name": "Colleague"}, actor=org.member_b)
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    page.goto("/people/")
    expect(page.get_by_test_id("pager-info")).to_have_text("1–2 of 2")

    page.get_by_label("My records").check()
    expect(page.get_by_test_id("pager-info")).to_have_text("1–1 of 1")
    expect(page).to_have_url(re.compile(r"mine=true"))
    page.get_by_label("My records").uncheck()
    expect(page.get_by_test_id("pager-info")).to_have_text("1–2 of 2")

    page.get_by_label("Select Mine").check()
    page.get_by_label("Select Colleague").check()
    page.locator("#bulk-tag").fill("Hot")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator(".flash-success")).to_contain_text("added to 1 record")
    expect(page.locator(".flash-warning")).to_contain_text(
        "Skipped 1 record you may not change: Colleague"
    )
    assert {p.first_name for p in Person.objects.filter(tags__name="Hot")} == {"Mine"}
