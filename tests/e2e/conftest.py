"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, so Django would refuse ORM
calls from the test body as "async unsafe"; the test body never runs inside that loop.
"""

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("KONTOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def builtin_roles(transactional_db):
    # A transactional test flushes every table afterwards, the migrations' rows too: the
    # roles, the default pipeline.
    from kontor.accounts.services import install_builtin_roles
    from kontor.sales.defaults import install_default_pipeline

    install_builtin_roles()
    install_default_pipeline()


@pytest.fixture
def new_page(browser, live_server):
    """Open a fresh browser context (its own cookies) and page; closed after the test."""
    contexts = []

    def make(viewport=None):
        # English whatever the machine's locale: Kontor follows the browser's Accept-Language.
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport or {"width": 1440, "height": 900},
            locale="en-US",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page, email, password):
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
