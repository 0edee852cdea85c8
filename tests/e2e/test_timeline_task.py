"""In a browser, the issue's acceptance: a task set from a person's page (the timeline's
quick add, from the keyboard) shows in My day and on the person's timeline; completed
from My day, it shows done there. A note added with Ctrl+Enter joins the timeline."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kontor.contacts import services as contacts
from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e


def test_a_task_from_a_persons_page_in_my_day_and_on_the_timeline(new_page, org):
    person = contacts.create_person(
        {"first_name": "Olga", "last_name": "Petrova"}, actor=org.member_a
    )
    page = new_page()
    log_in(page, org.member_a.email, PASSWORD)

    page.goto(f"/people/{person.pk}/")
    page.get_by_role("tab", name="Timeline").click()
    quick_add = page.get_by_test_id("quick-add")
    expect(quick_add).to_be_visible()
    title = page.get_by_placeholder("What is to be done? (Enter adds it)")
    title.fill("Send Olga the price list")
    quick_add.locator("input[name=due_date]").first.fill(timezone.localdate().isoformat())
    title.press("Enter")

    entries = page.get_by_test_id("timeline-entries")
    expect(entries).to_contain_text("Send Olga the price list")

    # The tab reloads the panel: wait until the old one is gone before opening the form
    # (a click on the old one's "New note" is lost with it).
    shown = page.get_by_test_id("quick-add").element_handle()
    page.get_by_role("tab", name="Timeline").click()
    shown.wait_for_element_state("hidden")
    page.locator("summary", has_text="New note").click()
    note = page.get_by_placeholder("What happened? (Ctrl+Enter adds it)")
    note.fill("Olga prefers calls in the morning")
    note.press("Control+Enter")
    expect(page.get_by_test_id("timeline-entries")).to_contain_text("prefers calls in the morning")

    page.get_by_role("link", name="My day").click()
    day = page.locator("main")
    expect(day).to_contain_text("Send Olga the price list")
    day.get_by_role("button", name="Mark done").click()
    expect(page.locator(".messages")).to_contain_text("Done: Send Olga the price list")
    expect(page.locator("main")).not_to_contain_text("Mark done")

    page.goto(f"/people/{person.pk}/timeline/")
    task_entry = page.get_by_test_id("timeline-entry").filter(has_text="Send Olga the price list")
    expect(task_entry).to_contain_text("Done")
