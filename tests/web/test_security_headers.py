"""Security headers on pages and API answers, the favicon, and templates the CSP can pass."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from kontor.accounts import services as accounts
from kontor.core.access import SYSTEM

TEMPLATE_FILES = sorted(Path(settings.BASE_DIR).glob("*/templates/**/*.html"))


def policy(response) -> dict[str, str]:
    directives = response["Content-Security-Policy"].split(";")
    return dict(d.strip().split(" ", 1) for d in directives if d.strip())


def test_a_page_carries_the_policy_and_the_browser_protections(client, org):
    client.force_login(org.member_a)
    response = client.get(reverse("web:home"))

    csp = policy(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert not any("unsafe" in value for value in csp.values())
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "url", ["web:home", "contacts:person_list", "web:search", "accounts:user_list"]
)
def test_pages_for_a_signed_in_user_are_never_stored(client, org, url):
    client.force_login(org.admin)
    response = client.get(reverse(url))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_api_answers_to_a_token_are_never_stored(client, org):
    token = accounts.issue_token(org.member_a, actor=SYSTEM)
    response = client.get("/api/v1/people", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_api_json_is_not_sniffed_and_the_api_docs_page_keeps_the_policy(client, org):
    token = accounts.issue_token(org.member_a, actor=SYSTEM)
    response = client.get("/api/v1/people", headers={"Authorization": f"Bearer {token}"})
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response
    docs = client.get("/api/v1/docs")
    assert policy(docs)["script-src"] == "'self'"


def test_static_files_stay_cacheable_for_a_signed_in_user(client, org):
    client.force_login(org.member_a)
    response = client.get("/static/web/kontor.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_favicon_is_served_at_the_usual_place_and_linked_from_every_page(client, org):
    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 301
    icon = client.get(redirect["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # ICO header
    login_page = client.get(reverse("web:login")).content.decode()
    client.force_login(org.member_a)
    home = client.get(reverse("web:home")).content.decode()
    for html in (login_page, home):
        assert '<link rel="icon" href="/static/web/favicon.svg" type="image/svg+xml">' in html
    assert client.get("/static/web/favicon.svg")["Content-Type"] == "image/svg+xml"


def test_htmx_is_told_to_need_neither_inline_style_nor_eval(client, org):
    client.force_login(org.member_a)
    html = client.get(reverse("web:home")).content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html)
    assert config, "htmx-config meta missing"
    assert '"includeIndicatorStyles": false' in config[1]
    assert '"allowEval": false' in config[1]
    assert html.index('name="htmx-config"') < html.index("htmx-2.min.js")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
EVENT_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:-][\w:-]*)\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_no_template_has_inline_script_style_or_event_handler_attributes(path):
    text = path.read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to a static file"
    assert not EVENT_HANDLER.search(text), "inline event handler: delegate from a static file"
    assert not INLINE_STYLE.search(text), "inline style: use a class from kontor.css"
