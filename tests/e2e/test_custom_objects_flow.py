"""In a browser, the issue's acceptance: an administrator defines "Construction site"
(a client company, a budget, a stage) and a custom field on people; a member of the
sales team records a site and filters the people list by the new field; a user of
another department gets nothing of the site by URL, API, search or export."""

import re

import pytest
from playwright.sync_api import expect

from kontor.accounts.models import Role, RoleGrant
from kontor.contacts import services as contacts
from kontor.core.access import Action, Scope
from kontor.objects.models import CustomRecord
from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e
# "Name" and its required mark, not "Plural name" or "API name".
NAME = re.compile(r"^Name\b")


def add_field(page, label: str, kind: str, **options) -> None:
    page.get_by_role("link", name="New field").first.click()
    page.get_by_label("Label").fill(label)
    page.get_by_label("Kind").select_option(kind)
    if "links_to" in options:
        page.get_by_label("Links to").select_option(options["links_to"])
    if "currency" in options:
        page.get_by_label("Currency").fill(options["currency"])
    if "options" in options:
        page.get_by_label("Options").fill("\n".join(options["options"]))
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("fields")).to_contain_text(label)


def search_hits(page, text: str) -> list[tuple[str, int]]:
    found = page.request.get(f"/api/v1/search?q={text}").json()
    return [(hit["type"], hit["id"]) for group in found["groups"] for hit in group["items"]]


@pytest.fixture
def support_exporter(make_user, org):
    """A user of the support department who may view and export its records."""
    role = Role.objects.create(name="Support exporter")
    RoleGrant.objects.bulk_create(
        RoleGrant(role=role, object_type="*", action=action, scope=int(Scope.DEPARTMENT))
        for action in (Action.VIEW, Action.EXPORT)
    )
    return make_user("sue@example.com", department=org.dept.support, roles=["Support exporter"])


def test_construction_sites_from_definition_to_department_walls(new_page, org, support_exporter):
    contacts.create_company({"name": "Acme Build"}, actor=org.member_a)
    ivan = contacts.create_person({"first_name": "Ivan", "last_name": "Petrov"}, actor=org.member_a)
    contacts.create_person({"first_name": "Olga", "last_name": "Sidorova"}, actor=org.member_a)

    # The administrator defines the type and its fields, and a field on people.
    admin = new_page()
    log_in(admin, "admin@example.com", PASSWORD)
    admin.goto("/settings/objects/new/")
    admin.get_by_label(NAME).fill("Construction site")
    admin.get_by_label("Plural name").fill("Construction sites")
    admin.get_by_label("API name").fill("construction_site")
    admin.get_by_role("button", name="Create").click()
    expect(admin.locator(".flash-success")).to_contain_text("Now add its fields")
    add_field(admin, "Client", "relation", links_to="contacts.company")
    add_field(admin, "Budget", "money", currency="EUR")
    add_field(admin, "Stage", "choice", options=["Planning", "Building", "Done"])
    admin.goto("/settings/fields/")
    admin.get_by_test_id("field-types").get_by_role("link", name="People").click()
    add_field(admin, "Segment", "choice", options=["Retail", "Wholesale"])

    # A sales team member records a site from the menu.
    member = new_page()
    log_in(member, "anna@example.com", PASSWORD)
    member.get_by_role("link", name="Construction sites").first.click()
    member.get_by_role("link", name="New: Construction site").first.click()
    member.get_by_label(NAME).fill("Riverside tower")
    member.get_by_label("Client").fill("acme")
    member.get_by_role("option", name="Acme Build").click()
    member.get_by_label("Budget").fill("125000.50")
    member.get_by_label("Stage").select_option(label="Building")
    member.get_by_role("button", name="Save", exact=True).click()
    expect(member.get_by_role("heading", name="Riverside tower")).to_be_visible()
    expect(member.get_by_role("link", name="Acme Build")).to_be_visible()
    expect(member.locator("main")).to_contain_text("EUR")
    site = CustomRecord.objects.get(name="Riverside tower")
    assert (site.owner_id, site.department_id) == (org.member_a.pk, org.dept.team1.pk)

    # ... sets the new field on a person and filters the people list by it.
    member.goto(f"/people/{ivan.pk}/edit/")
    member.get_by_label("Segment").select_option(label="Wholesale")
    member.get_by_role("button", name="Save changes").click()
    expect(member.locator("main")).to_contain_text("Wholesale")
    member.goto("/people/")
    expect(member.get_by_test_id("pager-info")).to_have_text("1–2 of 2")
    member.get_by_role("search").get_by_label("Segment").select_option(label="Wholesale")
    expect(member.get_by_test_id("pager-info")).to_have_text("1–1 of 1")
    expect(member).to_have_url(re.compile(r"custom=segment%3Awholesale|custom=segment:wholesale"))
    expect(member.locator("#list-results")).to_contain_text("Ivan")
    expect(member.locator("#list-results")).not_to_contain_text("Olga")
    assert search_hits(member, "Riverside") == [("objects.construction_site", site.pk)]

    # Another department: the site does not exist, on every channel.
    outsider = new_page()
    log_in(outsider, "sue@example.com", PASSWORD)
    assert outsider.goto(f"/objects/construction_site/{site.pk}/").status == 404
    assert outsider.request.get(f"/api/v1/objects/construction_site/{site.pk}").status == 404
    outsider.goto("/search/?q=Riverside")
    expect(outsider.locator("main")).not_to_contain_text("Riverside tower")
    assert search_hits(outsider, "Riverside") == []
    exported = outsider.request.get("/api/v1/objects/construction_site/export?format=csv")
    assert exported.status == 200
    assert "Riverside" not in exported.text() and "Name" in exported.text()
