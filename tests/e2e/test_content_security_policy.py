"""Every main page runs under the Content-Security-Policy without a single violation.

Chromium reports each blocked script, style, image or eval both as a
``securitypolicyviolation`` event and on the console; either one fails the test. So does a
request to any other host (the API docs included: nothing from a CDN).
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from kontor.accounts.models import Department, Role
from kontor.contacts import services as contacts
from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watch:
    """What one page broke: CSP violations (event or console) and requests to other hosts."""

    def __init__(self, page, origin):
        self.page = page
        self.problems = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("request", lambda r: self._request(r, origin))

    def _console(self, message):
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(f"console: {message.text}")

    def _request(self, request, origin):
        if not request.url.startswith((origin, "data:")):
            self.problems.append(f"request to another host: {request.url}")

    def visit(self, url):
        response = self.page.goto(url)
        assert response.ok, f"{url}: {response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"], url
        self.page.wait_for_load_state("networkidle")
        self.collect(url)

    def collect(self, where):
        for violation in self.page.evaluate("window.__cspViolations.splice(0)"):
            self.problems.append(f"{where}: {violation}")


@pytest.fixture
def records(org):
    company = contacts.create_company(
        {"name": "Beton Trade", "phones": [{"number": "+7 495 123-45-67"}]}, actor=org.admin
    )
    person = contacts.create_person(
        {
            "first_name": "Olga",
            "last_name": "Petrova",
            "company": company,
            "phones": [{"number": "+7 916 123-45-67"}],
            "emails": [{"email": "olga@beton.example"}],
        },
        actor=org.admin,
    )
    return person, company


def test_every_main_page_passes_the_content_security_policy(new_page, live_server, org, records):
    person, company = records
    page = new_page()
    watch = Watch(page, live_server.url)

    for url in [
        reverse("web:login"),
        reverse("web:password_reset"),
        reverse("web:password_reset_done"),
        reverse("web:password_reset_confirm", args=["MQ", "no-such-token"]),
        reverse("web:password_reset_complete"),
    ]:
        watch.visit(url)
    log_in(page, "admin@example.com", PASSWORD)
    watch.collect("home after login")

    role = Role.objects.get(name="member")
    urls = [
        reverse("web:home"),
        reverse("contacts:person_list"),
        reverse("contacts:person_create"),
        reverse("contacts:person_detail", args=[person.pk]),
        reverse("contacts:person_edit", args=[person.pk]),
        reverse("contacts:company_list"),
        reverse("contacts:company_create"),
        reverse("contacts:company_detail", args=[company.pk]),
        reverse("contacts:company_edit", args=[company.pk]),
        reverse("web:search") + "?q=beton",
        reverse("accounts:user_list"),
        reverse("accounts:user_create"),
        reverse("accounts:user_edit", args=[org.member_a.pk]),
        reverse("accounts:password_change"),
        reverse("accounts:department_list"),
        reverse("accounts:department_edit", args=[Department.objects.get(name="Sales").pk]),
        reverse("accounts:role_list"),
        reverse("accounts:role_create"),
        reverse("accounts:role_edit", args=[role.pk]),
        reverse("accounts:token_list"),
    ]
    for url in urls:
        watch.visit(url)

    # What htmx swaps in runs under the same policy: the suggest box, a list filter, tabs.
    page.goto(reverse("contacts:person_detail", args=[person.pk]))
    page.get_by_role("tab", name="History").click()
    expect(page.get_by_role("tab", name="History")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Profile")).to_have_attribute("aria-selected", "false")
    page.get_by_label("Search", exact=True).fill("olga")
    expect(page.locator("#search-results")).to_contain_text("Olga Petrova")
    watch.collect("detail tabs and search suggest")
    page.goto(reverse("contacts:person_list"))
    page.get_by_role("searchbox", name="Search").last.fill("petrova")
    page.wait_for_load_state("networkidle")
    watch.collect("list filter")

    watch.visit("/api/v1/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    watch.collect("API docs")

    assert not watch.problems, "\n".join(watch.problems)
