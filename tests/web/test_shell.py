"""Login, logout, the home dashboard and global search."""

import pytest
from django.urls import reverse

from kontor.contacts import services
from tests.conftest import PASSWORD


def login(client, email, password=PASSWORD, **extra):
    return client.post(reverse("web:login"), {"username": email, "password": password, **extra})


def test_login_by_email_then_logout_by_post(client, org):
    response = login(client, "ANNA@example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    home = client.get(reverse("web:home"))
    assert home.status_code == 200
    assert b"anna@example.com" in home.content
    assert client.get(reverse("web:logout")).status_code == 405
    assert client.post(reverse("web:logout"))["Location"] == reverse("web:login")
    assert client.get(reverse("web:home")).status_code == 302


def test_wrong_password_shows_the_form_again_with_the_email_kept(client, org):
    response = login(client, "anna@example.com", "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content
    assert b'value="anna@example.com"' in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "next_url, expected",
    [("/people/?tag=vip", "/people/?tag=vip"), ("https://evil.example/", "/")],
)
def test_next_redirect_is_kept_only_when_safe(client, org, next_url, expected):
    response = login(client, "anna@example.com", next=next_url)
    assert response["Location"] == expected


def test_login_is_throttled_with_429_after_5_failures(client, org):
    for _ in range(5):
        login(client, "anna@example.com", "wrong")
    response = login(client, "anna@example.com")  # even the right password now waits
    assert response.status_code == 429
    assert b"Too many login attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_home_counts_only_visible_records_and_lists_recent_ones(client, org):
    services.create_person({"first_name": "Mine"}, actor=org.member_a)
    services.create_person({"first_name": "Theirs"}, actor=org.member_c)
    services.create_company({"name": "Acme"}, actor=org.member_a)
    client.force_login(org.member_a)
    html = client.get(reverse("web:home")).content.decode()
    assert '<span class="stat-value" data-testid="people-count">1</span>' in html
    assert '<span class="stat-value" data-testid="companies-count">1</span>' in html
    assert "Mine" in html and "Theirs" not in html


def test_home_counts_stop_at_the_cap_and_show_a_plus(client, org, monkeypatch):
    monkeypatch.setattr("kontor.core.pagination.COUNT_CAP", 2)
    for name in ("Ann", "Bob", "Cid"):
        services.create_person({"first_name": name}, actor=org.member_a)
    client.force_login(org.member_a)
    html = client.get(reverse("web:home")).content.decode()
    assert '<span class="stat-value" data-testid="people-count">2+</span>' in html
    assert '<span class="stat-value" data-testid="companies-count">0</span>' in html


def test_home_without_records_invites_to_add_the_first(client, org):
    client.force_login(org.member_a)
    html = client.get(reverse("web:home")).content.decode()
    assert "Nobody here yet" in html
    assert reverse("contacts:person_create") in html


def test_search_suggest_groups_visible_hits_by_type(client, org):
    person = services.create_person(
        {"first_name": "Olga", "phones": [{"number": "+7 916 123-45-67"}]}, actor=org.member_a
    )
    services.create_person(
        {"first_name": "Hidden", "phones": [{"number": "+7 916 123-45-67"}]}, actor=org.member_c
    )
    client.force_login(org.member_a)
    response = client.get(
        reverse("web:search_suggest"), {"q": "8 (916) 1234567"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "People" in html
    assert reverse("contacts:person_detail", args=[person.pk]) in html
    assert "Hidden" not in html


@pytest.mark.parametrize(
    "lang, why",
    [
        ("en", "matched: phone +7 916 123-45-67"),
        ("ru", "совпадение: телефон +7 916 123-45-67"),
        ("fr", "correspondance : téléphone +7 916 123-45-67"),
    ],
)
def test_search_page_and_suggest_say_why_a_row_matched(client, org, lang, why):
    services.create_person(
        {"first_name": "Olga", "phones": [{"number": "+7 916 123-45-67"}]}, actor=org.member_a
    )
    client.force_login(org.member_a)
    headers = {"accept-language": lang}

    page = client.get(reverse("web:search"), {"q": "89161234567"}, headers=headers)
    suggest = client.get(reverse("web:search_suggest"), {"q": "89161234567"}, headers=headers)
    by_name = client.get(reverse("web:search"), {"q": "olga"}, headers=headers)

    assert f'data-testid="search-why">{why}</span>' in page.content.decode()
    assert f'data-testid="search-why">{why}</span>' in suggest.content.decode()
    # A match on the title itself needs no explaining.
    assert "search-why" not in by_name.content.decode()


def test_search_page_shows_results_and_an_empty_state(client, org):
    services.create_company({"name": "Beton Trade"}, actor=org.member_a)
    client.force_login(org.member_a)
    assert b"Beton Trade" in client.get(reverse("web:search"), {"q": "beton"}).content
    empty = client.get(reverse("web:search"), {"q": "zzzz"})
    assert b"Nothing found" in empty.content


def test_every_page_posts_htmx_with_the_csrf_token(client, org):
    client.force_login(org.member_a)
    html = client.get(reverse("web:home")).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert '<script src="/static/django_htmx/htmx-2.min.js" defer></script>' in html


def test_unknown_page_is_the_friendly_404(client, org):
    client.force_login(org.member_a)
    response = client.get("/people/999999/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Kontor" in response.content
