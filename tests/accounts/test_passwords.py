"""Passwords in the UI: an administrator sets one or sends a reset link, everyone changes
their own, and "forgot password" mails a one-time link (Django's locmem outbox)."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from kontor.accounts import services
from kontor.accounts.models import User
from kontor.core.access import SYSTEM
from kontor.core.models import AuditEntry
from tests.conftest import PASSWORD

NEW = "Fresh-pass-2026"
NEWER = "Newer-pass-2027"
LINK = re.compile(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)")


def can_log_in(email, password) -> bool:
    return User.objects.get(email=email).check_password(password)


def audit_actions(user) -> list[str]:
    return list(AuditEntry.objects.for_object(user).order_by("id").values_list("action", flat=True))


def text(response) -> str:
    return response.content.decode()


def follow_reset_link(client, message, password):
    """Open the mailed link and choose ``password``: Django's two-step confirm."""
    path = LINK.search(message.body)[1]
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    assert "Choose a new password" in text(form_page)
    return client.post(
        form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )


# -- an administrator sets a password -------------------------------------------------------


def test_admin_sets_a_users_password_and_it_is_audited(client, org):
    client.force_login(org.admin)
    page = text(client.get(reverse("accounts:user_edit", args=[org.member_a.pk])))
    assert f'action="/settings/users/{org.member_a.pk}/password/"' in page

    response = client.post(
        reverse("accounts:user_password", args=[org.member_a.pk]),
        {"password": NEW, "password_confirm": NEW},
    )

    assert response.status_code == 302
    assert can_log_in("anna@example.com", NEW) and not can_log_in("anna@example.com", PASSWORD)
    entry = AuditEntry.objects.for_object(org.member_a).latest("id")
    assert (entry.action, entry.actor, entry.channel) == (
        "accounts.user.password_changed",
        org.admin,
        "ui",
    )


@pytest.mark.parametrize(
    "password, confirm, message",
    [
        ("Fresh-pass-2026", "Fresh-pass-2025", "The two passwords differ."),
        ("short", "short", "This password is too short."),
        ("password123", "password123", "This password is too common."),
    ],
)
def test_a_refused_password_is_explained_beside_its_field(client, org, password, confirm, message):
    client.force_login(org.admin)

    response = client.post(
        reverse("accounts:user_password", args=[org.member_a.pk]),
        {"password": password, "password_confirm": confirm},
    )

    assert response.status_code == 422
    assert message in text(response)
    assert 'aria-invalid="true"' in text(response)
    assert can_log_in("anna@example.com", PASSWORD)


def test_nobody_sets_the_password_of_someone_above_or_outside_them(client, org, make_user):
    boss = make_user("boss@example.com", department=org.dept.team1, roles=["admin"])
    cases = [
        (org.sales_head, boss),  # in the head's department, but with wider rights
        (org.sales_head, org.admin),  # outside the head's department
        (org.sales_head, org.superuser),
        (org.member_a, org.member_b),  # a member edits only themselves
        (org.member_a, org.support_member),  # not even visible
    ]
    for actor, subject in cases:
        client.force_login(actor)
        edit = client.get(reverse("accounts:user_edit", args=[subject.pk]))
        assert f"/settings/users/{subject.pk}/password/" not in text(edit)
        for name in ("accounts:user_password", "accounts:user_send_reset"):
            response = client.post(
                reverse(name, args=[subject.pk]), {"password": NEW, "password_confirm": NEW}
            )
            assert response.status_code in (302, 404), (actor, subject, name)
    assert not mail.outbox
    for subject in (boss, org.admin, org.superuser, org.member_b, org.support_member):
        assert can_log_in(subject.email, PASSWORD)
        assert "accounts.user.password_reset_sent" not in audit_actions(subject)


def test_a_head_manages_the_passwords_of_their_department(client, org):
    client.force_login(org.sales_head)
    response = client.post(
        reverse("accounts:user_password", args=[org.member_c.pk]),
        {"password": NEW, "password_confirm": NEW},
    )
    assert response.status_code == 302
    assert can_log_in("clara@example.com", NEW)


# -- changing my own password ----------------------------------------------------------------


def test_change_password_page_is_in_the_user_menu_and_the_settings_menu(client, org):
    client.force_login(org.member_a)
    page = text(client.get(reverse("web:home")))
    menu = page[page.index('class="menu-panel"') :]
    assert 'href="/settings/password/"' in menu
    settings_page = text(client.get(reverse("accounts:password_change")))
    assert '<a href="/settings/password/" aria-current="page">My password</a>' in settings_page
    assert "<h1>Change password</h1>" in settings_page


def test_wrong_current_password_is_refused_inline(client, org):
    client.force_login(org.member_a)

    response = client.post(
        reverse("accounts:password_change"),
        {"current_password": "not-it", "password": NEW, "password_confirm": NEW},
    )

    assert response.status_code == 422
    html = text(response)
    assert re.search(r'id="id_current_password_error"><p>This is not your current password', html)
    assert can_log_in("anna@example.com", PASSWORD)


def test_change_own_password_keeps_me_logged_in_and_logs_out_my_other_sessions(org, client):
    from django.test import Client

    other_device = Client()
    other_device.force_login(org.member_a)
    client.force_login(org.member_a)

    response = client.post(
        reverse("accounts:password_change"),
        {"current_password": PASSWORD, "password": NEW, "password_confirm": NEW},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("accounts:password_change"), 302)]
    assert "Your new password is saved." in text(response)
    assert can_log_in("anna@example.com", NEW)
    assert client.get(reverse("web:home")).status_code == 200
    assert other_device.get(reverse("web:home")).status_code == 302
    entry = AuditEntry.objects.for_object(org.member_a).latest("id")
    assert (entry.action, entry.actor) == ("accounts.user.password_changed", org.member_a)


# -- reset links -----------------------------------------------------------------------------


def test_admin_sends_a_reset_link_and_the_user_chooses_a_password_with_it(
    client, org, django_capture_on_commit_callbacks
):
    client.force_login(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:user_send_reset", args=[org.member_a.pk]))
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]
    assert audit_actions(org.member_a)[-1] == "accounts.user.password_reset_sent"

    client.logout()
    done = follow_reset_link(client, mail.outbox[0], NEW)

    assert done.status_code == 302 and done["Location"] == reverse("web:password_reset_complete")
    assert can_log_in("anna@example.com", NEW)
    entry = AuditEntry.objects.for_object(org.member_a).latest("id")
    assert (entry.action, entry.actor) == ("accounts.user.password_reset", org.member_a)


def test_a_deactivated_user_gets_no_reset_link(client, org, django_capture_on_commit_callbacks):
    services.deactivate_user(org.member_b, actor=org.admin)
    client.force_login(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:user_send_reset", args=[org.member_b.pk]), follow=True
        )
    assert "activate them before a reset" in text(response)
    assert not mail.outbox


def test_forgot_password_mails_a_link_that_works_once(client, org):
    login = text(client.get(reverse("web:login")))
    assert f'href="{reverse("web:password_reset")}"' in login

    response = client.post(reverse("web:password_reset"), {"email": "  ANNA@Example.com "})

    assert response.status_code == 302
    assert response["Location"] == reverse("web:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@example.com"]
    assert message.subject == "Choose a new Kontor password"
    done = follow_reset_link(client, message, NEW)
    assert done["Location"] == reverse("web:password_reset_complete")
    assert can_log_in("anna@example.com", NEW) and not can_log_in("anna@example.com", PASSWORD)
    assert audit_actions(org.member_a)[-1] == "accounts.user.password_reset"
    again = client.get(LINK.search(message.body)[1], follow=True)
    assert "This link no longer works" in text(again)


def test_forgot_password_answers_the_same_for_an_unknown_email(client, org):
    known = client.post(reverse("web:password_reset"), {"email": "anna@example.com"}, follow=True)
    unknown = client.post(
        reverse("web:password_reset"), {"email": "ghost@example.com"}, follow=True
    )

    assert known.redirect_chain == unknown.redirect_chain
    assert known.status_code == unknown.status_code == 200
    strip_csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip_csrf.sub("", text(known)) == strip_csrf.sub("", text(unknown))
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]


def test_a_new_user_without_a_password_sets_the_first_one_by_reset_link(client, org):
    services.create_user(email="new@example.com", password=None, actor=SYSTEM)
    client.post(reverse("web:password_reset"), {"email": "new@example.com"})

    follow_reset_link(client, mail.outbox[0], NEW)

    assert can_log_in("new@example.com", NEW)


def test_a_deactivated_user_cannot_reset_by_forgot_password(client, org):
    services.deactivate_user(org.member_b, actor=org.admin)
    client.post(reverse("web:password_reset"), {"email": "boris@example.com"})
    assert not mail.outbox


def test_the_reset_mail_speaks_the_users_language(client, org):
    User.objects.filter(pk=org.member_a.pk).update(language="fr")
    client.post(reverse("web:password_reset"), {"email": "anna@example.com"})
    message = mail.outbox[0]
    assert message.subject == "Choisissez un nouveau mot de passe Kontor"
    assert "Pour le choisir, ouvrez ce lien" in message.body


def test_a_weak_password_behind_a_reset_link_is_refused_inline(client, org):
    client.post(reverse("web:password_reset"), {"email": "anna@example.com"})
    response = follow_reset_link(client, mail.outbox[0], "short")
    assert response.status_code == 200
    assert "This password is too short." in text(response)
    assert can_log_in("anna@example.com", PASSWORD)
