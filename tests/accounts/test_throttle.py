"""Throttles: password guesses per account (at login and when changing one's own password),
and reset links mailed per user and per client address."""

import datetime
import json
import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse

from kontor.accounts import services
from kontor.accounts.models import Attempt
from kontor.core.access import SYSTEM
from kontor.core.errors import TooManyAttempts, ValidationFailed
from kontor.core.models import AuditEntry
from tests.conftest import PASSWORD

SAME_STRING = ["anna@example.com"] * 10
CASE_VARIANTS = [
    "anna@example.com",
    "Anna@example.com",
    "ANNA@EXAMPLE.COM",
    "aNNa@Example.Com",
    " anna@example.com ",
    "annA@examplE.com",
    "ANNA@example.com",
    "anna@EXAMPLE.com",
    "AnNa@eXaMpLe.CoM",
    "\tAnna@Example.COM",
]
COOLOFF = datetime.timedelta(hours=1)


def login(client, email, password, ip):
    # A new address per attempt: only the per-email count can stop the guesses.
    return client.post(
        reverse("web:login"), {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def pass_the_cooloff(model, field, by=COOLOFF):
    for row in model.objects.all():
        setattr(row, field, getattr(row, field) - by)
        row.save(update_fields=[field])


@pytest.mark.parametrize("emails", [SAME_STRING, CASE_VARIANTS], ids=["same", "case-variants"])
def test_ten_logins_with_variants_of_one_email_are_throttled_like_the_same_string(
    client, org, settings, emails
):
    settings.AXES_FAILURE_LIMIT = 5
    statuses = [
        login(client, email, "wrong", f"10.0.0.{n}").status_code for n, email in enumerate(emails)
    ]
    assert statuses == [200] * 4 + [429] * 6
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"anna@example.com"}
    refused = login(client, "anna@example.com", PASSWORD, "10.0.1.1")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in client.session

    pass_the_cooloff(AccessAttempt, "attempt_time")
    assert login(client, "ANNA@example.com", PASSWORD, "10.0.1.2").status_code == 302
    assert client.session["_auth_user_id"] == str(org.member_a.pk)


@pytest.mark.parametrize("refusals_count", [True, False], ids=["refusals-count", "refusals-free"])
def test_the_lockout_says_when_the_cool_off_ends(client, org, settings, refusals_count):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = refusals_count
    for n in range(3):
        login(client, "anna@example.com", "wrong", f"10.0.0.{n}")
    pass_the_cooloff(AccessAttempt, "attempt_time", by=datetime.timedelta(minutes=10))

    refused = login(client, "anna@example.com", PASSWORD, "10.0.1.1")

    assert refused.status_code == 429
    # 15 minutes after the last failure counted: this refusal (axes' default), or the
    # third wrong password, 10 minutes ago.
    minutes_left = 15 if refusals_count else 5
    seconds = int(refused["Retry-After"])
    assert (minutes_left - 1) * 60 < seconds <= minutes_left * 60
    assert f"Please wait {datetime.timedelta(seconds=seconds)} and" in refused.content.decode()


def test_failures_for_one_email_do_not_lock_another(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        login(client, "ANNA@example.com", "wrong", f"10.0.0.{n}")
    assert login(client, "Boris@example.com", PASSWORD, "10.0.1.1").status_code == 302


def test_login_matches_a_non_ascii_email_in_any_case(client, make_user):
    make_user("olga@пример.рф")
    assert login(client, "Olga@ПРИМЕР.РФ", PASSWORD, "10.0.0.1").status_code == 302


class Api:
    def __init__(self, client, user):
        token = services.issue_token(user, name="tests", actor=SYSTEM)
        self.client, self.user = client, user
        self.headers = {"Authorization": f"Bearer {token}"}

    def change_password(self, current):
        return self.client.post(
            f"/api/v1/users/{self.user.pk}/password",
            data=json.dumps({"password": "Brand-new-pass-7", "current_password": current}),
            content_type="application/json",
            headers=self.headers,
        )


def test_guessing_the_current_password_through_the_api_is_throttled(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 5
    api = Api(client, org.member_a)
    statuses = [api.change_password(f"guess-{n}").status_code for n in range(7)]
    assert statuses == [422] * 4 + [429] * 3
    refused = api.change_password(PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    body = refused.json()
    assert "Too many wrong passwords" in body["detail"]
    assert body["errors"]["current_password"] == [body["detail"]]
    assert org.member_a.__class__.objects.get(pk=org.member_a.pk).check_password(PASSWORD)

    pass_the_cooloff(Attempt, "at")
    assert api.change_password(PASSWORD).status_code == 204


def test_the_right_password_clears_earlier_wrong_guesses(org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = org.member_a
    for new_password in ("First-new-pass-1", "Second-new-pass-2"):
        for _ in range(2):
            with pytest.raises(ValidationFailed) as wrong:
                services.set_password(user, password=new_password, current_password="x", actor=user)
            assert not isinstance(wrong.value, TooManyAttempts)
        current = PASSWORD if new_password.startswith("First") else "First-new-pass-1"
        services.set_password(user, password=new_password, current_password=current, actor=user)
    assert not Attempt.objects.exists()


def test_guesses_count_per_user_and_an_admin_reset_is_not_throttled(org, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            services.set_password(
                org.member_a, password="Any-new-pass-1", current_password="x", actor=org.member_a
            )
    with pytest.raises(TooManyAttempts):
        services.set_password(
            org.member_a, password="Any-new-pass-1", current_password=PASSWORD, actor=org.member_a
        )
    services.set_password(
        org.member_b, password="Any-new-pass-1", current_password=PASSWORD, actor=org.member_b
    )
    services.set_password(org.member_a, password="Reset-by-admin-1", actor=org.admin)


def test_the_password_change_page_is_throttled_by_the_same_service(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client.force_login(org.member_a)

    def change(current):
        new = "Brand-new-pass-7"
        return client.post(
            reverse("accounts:password_change"),
            {"current_password": current, "password": new, "password_confirm": new},
        )

    answers = [change(f"guess-{n}") for n in range(3)]
    pass_the_cooloff(Attempt, "at", by=datetime.timedelta(minutes=5))
    refused = change(PASSWORD)
    assert [a.status_code for a in answers] == [422, 422, 429]
    assert "Retry-After" not in answers[0]
    assert 14 * 60 < int(answers[2]["Retry-After"]) <= 15 * 60
    assert refused.status_code == 429
    # The first guess leaves the window 15 minutes after it was made, 5 of them gone.
    assert 9 * 60 < int(refused["Retry-After"]) <= 10 * 60
    assert "Too many wrong passwords. Please wait 15 minutes" in answers[2].content.decode()
    assert "Too many wrong passwords. Please wait 10 minutes" in refused.content.decode()


# -- reset links mailed ----------------------------------------------------------------------


def forgot(client, email, ip):
    return client.post(reverse("web:password_reset"), {"email": email}, REMOTE_ADDR=ip, follow=True)


def mailed_to() -> list[str]:
    return [m.to[0] for m in mail.outbox]


def test_forgot_password_mails_a_user_at_most_the_limit_an_hour(client, org, settings):
    settings.KONTOR_RESET_MAIL_LIMIT = 3
    answers = [forgot(client, "ANNA@example.com", f"10.0.0.{n}") for n in range(5)]
    unknown = forgot(client, "ghost@example.com", "10.0.0.9")

    assert mailed_to() == ["anna@example.com"] * 3
    # Sent, throttled and unknown read alike: the page tells nobody which one it was.
    pages = {strip_csrf(a) for a in [*answers, unknown]}
    assert len(pages) == 1
    assert {a.redirect_chain[-1][0] for a in [*answers, unknown]} == {
        reverse("web:password_reset_done")
    }

    pass_the_cooloff(Attempt, "at")
    forgot(client, "anna@example.com", "10.0.1.1")
    assert mailed_to() == ["anna@example.com"] * 4


def test_forgot_password_mails_from_one_address_at_most_its_limit_an_hour(client, org, settings):
    settings.KONTOR_RESET_MAIL_IP_LIMIT = 2
    for email in ("anna@example.com", "boris@example.com", "admin@example.com"):
        forgot(client, email, "10.0.0.1")
    forgot(client, "admin@example.com", "10.0.0.2")
    assert mailed_to() == ["anna@example.com", "boris@example.com", "admin@example.com"]


def test_the_admins_button_and_forgot_password_share_one_limit_per_user(
    client, org, settings, django_capture_on_commit_callbacks
):
    settings.KONTOR_RESET_MAIL_LIMIT = 2
    forgot(client, "anna@example.com", "10.0.0.1")
    client.force_login(org.admin)
    send = reverse("accounts:user_send_reset", args=[org.member_a.pk])
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(send, follow=True)
        refused = client.post(send, follow=True)

    assert mailed_to() == ["anna@example.com"] * 2
    assert "A reset link was sent to anna@example.com." in strip_csrf(sent)
    assert (
        "A reset link was sent to anna@example.com recently. You can send another in 60 minutes."
        in strip_csrf(refused)
    )
    audit = AuditEntry.objects.for_object(org.member_a).filter(
        action="accounts.user.password_reset_sent"
    )
    assert audit.count() == 1
    with pytest.raises(TooManyAttempts) as throttled:
        services.send_password_reset(org.member_a, actor=org.admin, send=lambda user: None)
    assert 3590 < throttled.value.retry_after <= 3600


def strip_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
