"""One real user journey in Chromium: log in, create, find by phone, edit, and scope by URL."""

import re

import pytest
from playwright.sync_api import expect

from kontor.contacts.models import Person
from kontor.core.models import AuditEntry
from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e


def test_create_find_by_phone_edit_and_other_department_gets_404(new_page, org):
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")

    # Create, with a second phone row added without a page reload.
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_role("link", name="New person").first.click()
    expect(page.get_by_label("First name")).to_be_focused()
    page.get_by_label("First name").fill("Olga")
    page.get_by_label("Last name").fill("Petrova")
    page.locator("#id_phones-0-number").fill("+7 916 123-45-67")
    page.locator("[data-rows=phones] [data-add-row]").click()
    page.locator("#id_phones-1-number").fill("+7 495 765-43-21")
    page.locator("#id_phones-1-kind").select_option("work")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Olga Petrova")
    expect(page.get_by_role("link", name="+7 916 123-45-67")).to_have_attribute(
        "href", "tel:+79161234567"
    )
    person = Person.objects.get(first_name="Olga")
    assert sorted(p.e164 for p in person.phones.all()) == ["+74957654321", "+79161234567"]
    person_url = page.url

    # Find by the phone written differently, through the global search dropdown.
    page.goto("/")
    search = page.get_by_role("searchbox", name="Search")
    search.press_sequentially("8 (916) 1234567", delay=20)
    hit = page.locator("#search-results .search-hit", has_text="Olga Petrova")
    expect(hit).to_be_visible()
    hit.click()
    expect(page).to_have_url(person_url)

    # Enter in the box opens the full search page.
    search = page.get_by_role("searchbox", name="Search")
    search.fill("8 (916) 1234567")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=8"))
    expect(page.locator("main").get_by_role("link", name="Olga Petrova")).to_be_visible()

    # Edit.
    page.goto(person_url)
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Position").fill("Head of purchasing")
    page.get_by_label("Position").press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("were saved")
    expect(page.locator(".subtitle")).to_contain_text("Head of purchasing")
    person.refresh_from_db()
    assert person.position == "Head of purchasing"
    assert (
        AuditEntry.objects.filter(action="contacts.person.updated", object_id=person.pk).count()
        == 1
    )

    page.get_by_role("tab", name="History").click()
    expect(page.locator(".timeline-item")).to_have_count(2)
    expect(page.locator(".timeline ins", has_text="Head of purchasing")).to_be_visible()

    # Someone in another department opens the same URL: it does not exist for them.
    other = new_page()
    log_in(other, "sam@example.com", PASSWORD)
    response = other.goto(person_url)
    assert response.status == 404
    expect(other.get_by_role("heading", name="Page not found")).to_be_visible()


def test_invalid_phone_is_shown_inline_and_input_is_kept(new_page, org):
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    page.goto("/people/new/")
    page.get_by_label("First name").fill("Boris")
    page.locator("#id_phones-0-number").fill("12")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#err_phones-0-number")).to_contain_text("not a valid phone number")
    expect(page.get_by_label("First name")).to_have_value("Boris")
    expect(page.locator("#id_phones-0-number")).to_have_value("12")
    assert not Person.objects.filter(first_name="Boris").exists()


def test_list_filters_with_htmx_and_bulk_tags(new_page, org):
    from kontor.contacts import services

    for name in ("Alpha", "Beta", "Gamma"):
        services.create_person({"first_name": name}, actor=org.sales_head)
    page = new_page()
    log_in(page, "head@example.com", PASSWORD)
    page.goto("/people/")
    expect(page.get_by_test_id("pager-info")).to_have_text("1–3 of 3")
    page.get_by_role("searchbox", name="Search this list").fill("gam")
    expect(page.get_by_test_id("pager-info")).to_have_text("1–1 of 1")
    expect(page).to_have_url(re.compile(r"q=gam"))
    page.get_by_role("searchbox", name="Search this list").fill("")
    expect(page.get_by_test_id("pager-info")).to_have_text("1–3 of 3")

    page.get_by_label("Select Alpha").check()
    page.get_by_label("Select Beta").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("2")
    page.locator("#bulk-tag").fill("VIP")
    page.get_by_role("button", name="Add tag").click()
    expect(page.locator(".flash-success")).to_contain_text("added to 2 records")
    tagged = {p.first_name for p in Person.objects.filter(tags__name="VIP")}
    assert tagged == {"Alpha", "Beta"}


def test_company_autocomplete_and_save_anyway_on_a_likely_duplicate(new_page, org):
    from kontor.contacts import services

    company = services.create_company({"name": "Stroy Mir"}, actor=org.member_a)
    services.create_person(
        {"first_name": "Olga", "last_name": "Petrova", "company_id": company.pk},
        actor=org.member_a,
    )
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    page.goto("/people/new/")
    page.get_by_label("First name").fill("Olga")
    page.get_by_label("Last name").fill("Petrova")
    page.get_by_label("Company").press_sequentially("stroy", delay=20)
    page.get_by_role("option", name="Stroy Mir").click()
    expect(page.get_by_label("Company")).to_have_value("Stroy Mir")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("duplicates")).to_contain_text("Olga Petrova")
    assert Person.objects.filter(last_name="Petrova").count() == 1
    page.get_by_role("button", name="Save anyway").click()
    expect(page.locator(".flash-success")).to_contain_text("was created")
    assert Person.objects.filter(last_name="Petrova", company=company).count() == 2
