"""The settings area looks like the rest of Kontor: its classes exist in the stylesheet,
each page has a title and the settings menu, tables stack at phone width, the department
tree nests, and no page carries inline script or style (the CSP forbids them)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from kontor.accounts import services
from kontor.accounts.models import Role

KONTOR = Path(__file__).parents[2] / "kontor"
STYLESHEET = KONTOR / "web/static/web/kontor.css"
# The settings area and the password pages outside it.
TEMPLATES = sorted(
    [
        *(KONTOR / "accounts/templates/accounts").glob("*.html"),
        *(KONTOR / "web/templates/web").glob("password_reset_*.html"),
        KONTOR / "web/templates/web/login.html",
        KONTOR / "documents/templates/documents/company_details.html",
    ]
)
TEMPLATE_CODE = re.compile(r"{%.*?%}|{{.*?}}", re.S)


def classes_used(html: str) -> set[str]:
    used = set()
    for value in re.findall(r'class="([^"]*)"', html):
        used |= set(TEMPLATE_CODE.sub(" ", value).split())
    return used


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_class_in_the_settings_templates_is_styled(template):
    defined = set(re.findall(r"\.([a-zA-Z][\w-]*)", STYLESHEET.read_text()))
    assert not classes_used(template.read_text()) - defined


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_inline_script_handler_or_style(template):
    html = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert not re.search(r"\sstyle=", html)


def settings_pages(org):
    role = Role.objects.get(name="member")
    return {
        reverse("accounts:user_list"): "Users",
        reverse("accounts:user_create"): "New user",
        reverse("accounts:user_edit", args=[org.member_a.pk]): "anna@example.com",
        reverse("accounts:department_list"): "Departments",
        reverse("accounts:department_edit", args=[org.dept.sales.pk]): "Sales",
        reverse("accounts:role_list"): "Roles",
        reverse("accounts:role_create"): "New role",
        reverse("accounts:role_edit", args=[role.pk]): "Role Member",
        reverse("accounts:token_list"): "My API tokens",
        reverse("calendar:feed_settings"): "Calendar feed",
        reverse("sales:pipeline_settings"): "Pipelines",
        reverse("sales:pipeline_create"): "New pipeline",
        reverse("sales:pipeline_reasons"): "Lost reasons",
        reverse("catalog:vat_rate_list"): "VAT rates",
        reverse("catalog:vat_rate_create"): "New VAT rate",
        reverse("documents:company_details"): "Company details",
        reverse("accounts:password_change"): "Change password",
        reverse("accounts:event_list"): "Event deliveries",
        reverse("backups:backup_list"): "Backups",
        reverse("savedviews:views_admin"): "Views",
        reverse("modules:module_settings"): "Modules",
        reverse("dashboards:dashboard_admin"): "Dashboards",
        reverse("web:field_list"): "Fields",
        reverse("web:field_type", args=["contacts.person"]): "Fields: People",
        reverse("web:field_create", args=["contacts.person"]): "New field: People",
    }


def test_every_settings_page_has_its_title_and_the_settings_menu(client, org):
    client.force_login(org.admin)
    for url, heading in settings_pages(org).items():
        html = client.get(url).content.decode()
        assert f"<h1>{heading}</h1>" in html, url
        assert f"<title>{heading} · Kontor</title>" in html, url
        menu = html[html.index('class="settings-nav"') :]
        menu = menu[: menu.index("</nav>")]
        assert re.findall(r"<a href=\"([^\"]+)\"", menu) == [
            "/settings/users/",
            "/settings/departments/",
            "/settings/roles/",
            "/settings/calendar-feed/",
            "/settings/pipelines/",
            "/settings/vat-rates/",
            "/settings/objects/",
            "/settings/company/",
            "/settings/views/",
            "/settings/modules/",
            "/settings/dashboards/",
            "/settings/fields/",
            "/settings/backups/",
            "/settings/events/",
            "/settings/password/",
            "/settings/tokens/",
        ]
        assert menu.count('aria-current="page"') == 1, url


def test_settings_tables_label_every_cell_for_phone_width(client, org):
    services.issue_token(org.admin, name="script", actor=org.admin)
    client.force_login(org.admin)
    for url in (
        "/settings/users/",
        "/settings/roles/",
        "/settings/tokens/",
        "/settings/roles/new/",
    ):
        html = client.get(url).content.decode()
        tables = re.findall(r"<table class=\"table responsive[^\"]*\">(.*?)</table>", html, re.S)
        assert tables, url
        for table in tables:
            body = table[table.index("<tbody>") :]
            cells = re.findall(r"<td( [^>]*)?>", body)
            labelled = [c for c in cells if "data-label=" in (c or "")]
            # Only an action cell (a button) may go without a label.
            assert len(cells) - len(labelled) <= body.count("<tr"), url


def test_department_tree_nests_children_under_their_parent(client, org):
    client.force_login(org.admin)
    html = client.get("/settings/departments/").content.decode()

    sales = html.index('<span class="tree-name">Sales</span>')
    children = html.index(f'<ul id="department-{org.dept.sales.pk}-children">', sales)
    team1 = html.index('<span class="tree-name">Sales Team 1</span>')
    support = html.index('<span class="tree-name">Support</span>')
    assert sales < children < team1 < html.index("</ul>", team1) < support
    assert f'aria-controls="department-{org.dept.sales.pk}-children"' in html
    # A leaf has nothing to fold.
    assert f'aria-controls="department-{org.dept.team1.pk}-children"' not in html


def test_user_list_empty_state_offers_to_clear_the_filters(client, org):
    client.force_login(org.admin)
    html = client.get("/settings/users/?q=nobody-by-this-name").content.decode()
    assert 'class="empty-state"' in html and "No users match these filters." in html
    assert 'href="/settings/users/">Clear filters' in html
