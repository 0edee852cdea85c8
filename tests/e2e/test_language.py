"""Switching the language in Chromium: from the user menu with the keyboard, and at login."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e


def test_language_is_switched_from_the_user_menu_and_remembered_at_login(new_page, org):
    page = new_page()
    log_in(page, "anna@example.com", PASSWORD)
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People")

    # Keyboard only: open the menu, pick a language, Tab to the button, Enter.
    page.locator(".user-menu summary").focus()
    page.keyboard.press("Enter")
    language = page.get_by_label("Language")
    language.focus()
    language.select_option("ru")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Apply")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Контакты")
    assert page.url.endswith("/people/")
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    # The choice outlives the session: the login page after logging out is Russian too.
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Выйти").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Войти")

    page.get_by_label("Язык").select_option("fr")
    page.get_by_role("button", name="Применить").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
