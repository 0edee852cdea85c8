"""Passwords in Chromium: an admin resets a user's password, the user logs in with it and
changes it; and "forgot password" from the login page, through the mailed link."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e

GIVEN = "Given-by-admin-42"
CHOSEN = "Chosen-by-anna-43"
FORGOTTEN = "After-forgetting-44"


# Two fields start with "New password": they are found by id, the others by label.


def log_out(page):
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")


def test_admin_resets_a_password_and_the_user_changes_it(new_page, org):
    admin = new_page()
    log_in(admin, "admin@example.com", PASSWORD)
    admin.get_by_role("link", name="Settings").click()
    admin.get_by_role("link", name="anna@example.com").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("anna@example.com")
    password = admin.locator("section", has=admin.get_by_role("heading", name="Password"))
    password.locator("#id_password").fill(GIVEN)
    password.locator("#id_password_confirm").fill(GIVEN)
    password.get_by_role("button", name="Set password").click()
    expect(admin.locator(".flash-success")).to_have_text("New password of anna@example.com saved.")

    # Anna logs in with the password she was given, then changes it from the user menu.
    anna = new_page(viewport={"width": 390, "height": 800})
    log_in(anna, "anna@example.com", GIVEN)
    anna.locator(".user-menu summary").click()
    anna.get_by_role("link", name="Change password").click()
    expect(anna.get_by_role("heading", level=1)).to_have_text("Change password")

    # A wrong current password is refused beside its field, and nothing changes.
    anna.get_by_label("Current password").fill("not-my-password")
    anna.locator("#id_password").fill(CHOSEN)
    anna.locator("#id_password_confirm").fill(CHOSEN)
    anna.get_by_role("button", name="Change password").click()
    expect(anna.locator("#id_current_password_error")).to_have_text(
        "This is not your current password."
    )

    anna.get_by_label("Current password").fill(GIVEN)
    anna.locator("#id_password").fill(CHOSEN)
    anna.locator("#id_password_confirm").fill(CHOSEN)
    anna.get_by_role("button", name="Change password").click()
    expect(anna.locator(".flash-success")).to_have_text("Your new password is saved.")
    log_out(anna)

    log_in(anna, "anna@example.com", CHOSEN)
    expect(anna.get_by_role("heading", level=1)).to_contain_text("Hello")


def test_forgot_password_mails_a_link_that_sets_a_new_one(new_page, org):
    page = new_page()
    page.goto("/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("boris@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    # The live server runs in this process: its mail is in Django's locmem outbox.
    assert [m.to for m in mail.outbox] == [["boris@example.com"]]
    link = re.search(r"https?://\S+/password-reset/\S+/\S+/", mail.outbox[0].body)[0]
    page.goto(link)
    page.locator("#id_new_password1").fill(FORGOTTEN)
    page.locator("#id_new_password2").fill(FORGOTTEN)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password changed")

    page.get_by_role("link", name="Log in").click()
    log_in(page, "boris@example.com", FORGOTTEN)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
