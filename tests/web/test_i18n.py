"""Kontor in Russian and French: choosing a language, what comes out translated, and the
message catalogs themselves (complete, compiled, and in step with the source texts)."""

import ast
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kontor.accounts import services as accounts
from kontor.accounts.models import User
from kontor.contacts import services as contacts
from kontor.core.access import SYSTEM
from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry
from tests.conftest import PASSWORD

KONTOR_DIR = Path(django_settings.BASE_DIR)
LOCALE_DIR = KONTOR_DIR / "locale"
LANGUAGES = ("ru", "fr")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# A few texts per page and language: the page is translated, not just its title.
LOGIN = {
    "en": ["Log in", "Your customers, your team, one place.", "Password"],
    "ru": ["Войти", "Ваши клиенты и ваша команда — в одном месте.", "Пароль"],
    "fr": ["Se connecter", "Vos clients, votre équipe, au même endroit.", "Mot de passe"],
}
PEOPLE = {
    "en": ["<h1>People</h1>", "New person", ">Owner<"],
    "ru": ["<h1>Контакты</h1>", "Новый контакт", ">Ответственный<", 'data-label="Имя"'],
    "fr": ["<h1>Contacts</h1>", "Nouveau contact", ">Responsable<", 'data-label="Nom"'],
}


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)">', response.content.decode())[1]


def assert_texts(response, texts):
    html = response.content.decode()
    missing = [t for t in texts if t not in html]
    assert not missing, f"not on the page: {missing}"


# -- choosing the language -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ru", "fr"])
def test_login_page_speaks_the_browsers_language(client, db, lang):
    response = client.get(reverse("web:login"), headers={"accept-language": f"{lang},en;q=0.5"})

    assert response.status_code == 200
    assert html_lang(response) == lang
    assert_texts(response, LOGIN[lang])


def test_without_a_known_language_kontor_speaks_english(client, db):
    assert html_lang(client.get(reverse("web:login"))) == "en"
    german = client.get(reverse("web:login"), headers={"accept-language": "de-DE,de"})
    assert html_lang(german) == "en"
    assert_texts(german, LOGIN["en"])


@pytest.mark.parametrize("lang", ["ru", "fr"])
def test_people_list_speaks_the_browsers_language(client, org, lang):
    contacts.create_person({"first_name": "Olga"}, actor=org.admin)
    client.force_login(org.admin)

    response = client.get(reverse("contacts:person_list"), headers={"accept-language": lang})

    assert response.status_code == 200
    assert html_lang(response) == lang
    assert_texts(response, PEOPLE[lang])
    assert "Olga" in response.content.decode()


def test_the_login_page_offers_every_language_named_in_itself(client, db):
    html = client.get(reverse("web:login"), headers={"accept-language": "fr"}).content.decode()

    form = html[html.index('data-testid="language-form"') :]
    form = form[: form.index("</form>")]
    assert f'action="{reverse("set_language")}"' in html
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<label for="language-select">Langue</label>' in form
    options = re.findall(r'<option value="(\w+)" lang="\w+"( selected)?>([^<]+)</option>', form)
    assert options == [
        ("en", "", "English"),
        ("ru", "", "Русский"),
        ("fr", " selected", "Français"),
    ]
    assert '<button type="submit"' in form


def test_set_language_from_the_login_form_is_remembered_in_a_cookie(db):
    browser = Client(enforce_csrf_checks=True)
    login = browser.get(reverse("web:login"))
    token = CSRF_FIELD.search(login.content.decode())[1]

    response = browser.post(
        reverse("set_language"),
        {"language": "ru", "next": reverse("web:login"), "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")
    cookie = response.cookies[django_settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ru"
    assert int(cookie["max-age"]) == 365 * 24 * 60 * 60
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    # The choice wins over what the browser asks for.
    again = browser.get(reverse("web:login"), headers={"accept-language": "fr"})
    assert html_lang(again) == "ru"
    assert_texts(again, LOGIN["ru"])


def test_set_language_refuses_a_post_without_the_csrf_token(db):
    browser = Client(enforce_csrf_checks=True)
    browser.get(reverse("web:login"))

    response = browser.post(reverse("set_language"), {"language": "ru", "next": "/login/"})

    assert response.status_code == 403
    assert django_settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_user_menu_switches_the_people_list_to_french_and_back(client, org):
    contacts.create_person({"first_name": "Olga"}, actor=org.admin)
    client.force_login(org.admin)
    people = reverse("contacts:person_list")
    page = client.get(people).content.decode()
    menu = page[page.index('class="menu-panel"') :]
    assert menu.index('data-testid="language-form"') < menu.index("Log out")
    assert f'<input type="hidden" name="next" value="{people}">' in menu

    french = client.post(reverse("set_language"), {"language": "fr", "next": people}, follow=True)

    assert french.redirect_chain == [(people, 302)]
    assert html_lang(french) == "fr"
    assert_texts(french, PEOPLE["fr"])
    assert '<option value="fr" lang="fr" selected>Français</option>' in french.content.decode()

    english = client.post(reverse("set_language"), {"language": "en", "next": people}, follow=True)
    assert_texts(english, PEOPLE["en"])


def test_a_users_choice_is_kept_on_them_and_speaks_on_a_new_browser(org):
    first = Client()
    first.force_login(org.nobody)  # no role: a language is no permission
    people = reverse("contacts:person_list")
    first.post(reverse("set_language"), {"language": "fr", "next": people})
    org.nobody.refresh_from_db()
    assert org.nobody.language == "fr"
    entry = AuditEntry.objects.get(action="accounts.user.language_changed")
    assert entry.object_id == org.nobody.pk and entry.changes == {"language": ["", "fr"]}

    second = Client(headers={"accept-language": "ru"})
    assert html_lang(second.get(reverse("web:login"))) == "ru"
    login = second.post(
        reverse("web:login"), {"username": "NOBODY@example.com", "password": PASSWORD}
    )
    assert login.status_code == 302
    assert login.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "fr"
    home = second.get(reverse("web:home"))
    assert html_lang(home) == "fr"
    # The saved language wins over a cookie another person left on a shared browser.
    second.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "ru"
    assert html_lang(second.get(reverse("web:home"))) == "fr"
    # After logging out, this browser keeps speaking the user's language.
    second.post(reverse("web:logout"))
    assert html_lang(second.get(reverse("web:login"))) == "fr"


def test_an_anonymous_choice_changes_no_account(client, org):
    client.post(reverse("set_language"), {"language": "ru", "next": "/login/"})

    assert set(User.objects.values_list("language", flat=True)) == {""}
    assert not AuditEntry.objects.filter(action="accounts.user.language_changed").exists()


def test_a_language_is_chosen_only_for_oneself_and_only_among_the_offered(org):
    with pytest.raises(PermissionDenied):
        accounts.set_language(org.member_a, "fr", actor=org.admin)
    with pytest.raises(ValidationFailed) as refused:
        accounts.set_language(org.member_a, "de", actor=org.member_a)
    assert refused.value.errors == {"language": ["Choose one of the offered languages."]}
    token = accounts.issue_token(org.admin, name="i18n", actor=SYSTEM)
    response = Client().patch(
        f"/api/v1/users/{org.member_a.pk}",
        data=json.dumps({"language": "xx", "version": org.member_a.version}),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["language"]
    org.member_a.refresh_from_db()
    assert org.member_a.language == ""


def test_history_shows_verbs_and_channels_in_russian(client, org):
    person = contacts.create_person({"first_name": "Olga"}, actor=org.admin)
    client.force_login(org.admin)

    response = client.get(
        reverse("contacts:person_tab", args=[person.pk, "history"]),
        headers={"accept-language": "ru"},
    )

    assert_texts(response, ["создал(а) запись", ">Система<", ">Имя<"])


def test_built_in_role_descriptions_are_translated_until_an_admin_rewrites_them(client, org):
    member = accounts.role_named("member")
    accounts.update_role(member, description="Our sales people", actor=org.superuser)
    client.force_login(org.admin)

    html = client.get(reverse("accounts:role_list"), headers={"accept-language": "ru"})

    assert_texts(html, ["Любые действия со всеми записями.", "Our sales people"])


@pytest.mark.parametrize(
    "lang, names",
    [
        ("en", ["Administrator", "Head of department", "Member"]),
        ("ru", ["Администратор", "Руководитель отдела", "Сотрудник"]),
        ("fr", ["Administrateur", "Responsable de service", "Membre"]),
    ],
)
def test_built_in_role_names_are_shown_translated_and_stored_as_codes(client, org, lang, names):
    client.force_login(org.admin)
    headers = {"accept-language": lang}

    roles = client.get(reverse("accounts:role_list"), headers=headers)
    users = client.get(reverse("accounts:user_list"), headers=headers)
    form = client.get(reverse("accounts:user_edit", args=[org.member_a.pk]), headers=headers)

    assert_texts(roles, [f">{name}</a>" for name in names])
    assert_texts(users, [f'<span class="badge">{name}</span>' for name in names])
    assert_texts(form, names)
    assert sorted(accounts.role_named(code).name for code in ("admin", "head", "member")) == [
        "admin",
        "head",
        "member",
    ]


def test_a_renamed_built_in_role_shows_its_new_name(client, org):
    accounts.update_role(accounts.role_named("member"), name="Sales staff", actor=org.superuser)
    client.force_login(org.admin)

    html = client.get(reverse("accounts:role_list"), headers={"accept-language": "ru"})

    assert_texts(html, [">Sales staff</a>", ">Администратор</a>"])


def test_the_api_gives_roles_a_translated_display_name_beside_the_code(org):
    token = accounts.issue_token(org.admin, name="i18n", actor=SYSTEM)
    headers = {"authorization": f"Bearer {token}", "accept-language": "fr"}

    roles = Client().get("/api/v1/roles", headers=headers).json()["items"]
    user = Client().get(f"/api/v1/users/{org.member_a.pk}", headers=headers).json()

    assert {(r["name"], r["display_name"]) for r in roles} >= {
        ("admin", "Administrateur"),
        ("head", "Responsable de service"),
        ("member", "Membre"),
    }
    assert user["roles"] == [
        {"id": accounts.role_named("member").pk, "name": "member", "display_name": "Membre"}
    ]


# -- translated messages from services ---------------------------------------------------------


def test_api_validation_messages_come_in_russian(org):
    token = accounts.issue_token(org.admin, name="i18n", actor=SYSTEM)
    response = Client().post(
        "/api/v1/people",
        data=json.dumps({"first_name": "", "phones": [{"number": "abc"}]}),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}", "accept-language": "ru"},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Исправьте ошибки ниже."
    assert body["errors"]["first_name"] == ["Обязательное поле."]
    assert body["errors"]["phones.0.number"] == ["«abc» — некорректный номер телефона."]


def test_api_speaks_english_without_accept_language(org):
    token = accounts.issue_token(org.admin, name="i18n", actor=SYSTEM)
    response = Client().post(
        "/api/v1/people",
        data=json.dumps({"first_name": ""}),
        content_type="application/json",
        headers={"authorization": f"Bearer {token}"},
    )

    assert response.json()["errors"]["first_name"] == ["This field is required."]


@pytest.mark.parametrize(
    "count, ru, fr",
    [
        (1, "1 сотрудник", "1 membre"),
        (3, "3 сотрудника", "3 membres"),
        (5, "5 сотрудников", "5 membres"),
        (11, "11 сотрудников", "11 membres"),
        (21, "21 сотрудник", "21 membres"),
        (24, "24 сотрудника", "24 membres"),
    ],
)
def test_plural_forms_follow_each_languages_rules(count, ru, fr):
    def members(lang):
        with translation.override(lang):
            text = translation.ngettext("%(counter)s member", "%(counter)s members", count)
            return text % {"counter": count}

    assert members("ru") == ru
    assert members("fr") == fr


def test_the_error_page_is_translated_too():
    with translation.override("fr"):
        html = render_to_string("500.html")
    assert '<html lang="fr">' in html
    assert "<h1>Une erreur s'est produite</h1>" in html


# -- the catalogs ----------------------------------------------------------------------------


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (a list) and flags."""
    entries, entry, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry is not None and "msgid" in entry:
                entries.append(entry)
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": []}
        if line.startswith("#,"):
            entry["flags"] |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if field == "msgstr":
                entry["msgstr"][-1] += ast.literal_eval(line)
            else:
                entry[field] += ast.literal_eval(line)
        else:
            keyword, _space, value = line.partition(" ")
            field = "msgstr" if keyword.startswith("msgstr") else keyword
            if field == "msgstr":
                entry["msgstr"].append(ast.literal_eval(value))
            else:
                entry[field] = ast.literal_eval(value)
    return entries


def msgids(entries) -> set:
    return {(e.get("msgctxt"), e["msgid"], e.get("msgid_plural")) for e in entries if e["msgid"]}


def read_mo(path: Path) -> dict[bytes, bytes]:
    """The (original, translation) pairs of a compiled catalog (GNU .mo format)."""
    data = path.read_bytes()
    order = "<" if data[:4] == b"\xde\x12\x04\x95" else ">"
    _revision, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    catalog = {}
    for i in range(count):
        olen, ooff = struct.unpack(order + "2I", data[originals + 8 * i : originals + 8 * i + 8])
        tlen, toff = struct.unpack(
            order + "2I", data[translations + 8 * i : translations + 8 * i + 8]
        )
        catalog[data[ooff : ooff + olen]] = data[toff : toff + tlen]
    return catalog


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(lang):
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"
    entries = read_po(po)

    assert len(entries) > 300
    header = entries[0]["msgstr"][0]
    assert f"Language: {lang}\n" in header
    nplurals = {"ru": 3, "fr": 2}[lang]
    assert f"Plural-Forms: nplurals={nplurals};" in header
    assert not [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not [e["msgid"] for e in entries[1:] if not all(e["msgstr"])]
    plurals = [e for e in entries if "msgid_plural" in e]
    assert plurals and all(len(e["msgstr"]) == nplurals for e in plurals)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_msgfmt_accepts_the_catalog_and_the_committed_mo_is_compiled_from_it(lang, tmp_path):
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"
    fresh = tmp_path / "django.mo"

    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(fresh), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert re.search(r"^\d+ translated messages\.$", result.stderr, re.M), result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr
    committed = LOCALE_DIR / lang / "LC_MESSAGES" / "django.mo"
    assert read_mo(committed) == read_mo(fresh), (
        "django.mo is out of date: run compilemessages (docs/development.md, Translations)"
    )


def test_makemessages_would_add_or_drop_no_message(tmp_path, monkeypatch, settings):
    """Every user-facing text in the source is in the catalogs, and nothing stale is."""
    source = tmp_path / "kontor"
    shutil.copytree(KONTOR_DIR, source, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    (source / "locale").mkdir()
    settings.LOCALE_PATHS = [source / "locale"]
    monkeypatch.chdir(source)

    call_command("makemessages", locale=["ru"], add_location="file", verbosity=0)

    extracted = msgids(read_po(source / "locale" / "ru" / "LC_MESSAGES" / "django.po"))
    for lang in LANGUAGES:
        committed = msgids(read_po(LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"))
        assert not extracted - committed, f"{lang}: new texts to translate: run makemessages"
        assert not committed - extracted, f"{lang}: texts no longer used: run makemessages"
