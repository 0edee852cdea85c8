"""Password guessing is throttled per account: at login and when changing one's own password."""

import datetime
import json

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from kontor.accounts import services
from kontor.accounts.models import PasswordGuess
from kontor.core.access import SYSTEM
from kontor.core.errors import TooManyAttempts, ValidationFailed
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


def pass_the_cooloff(model, field):
    for row in model.objects.all():
        setattr(row, field, getattr(row, field) - COOLOFF)
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
    assert "_auth_user_id" not in client.session

    pass_the_cooloff(AccessAttempt, "attempt_time")
    assert login(client, "ANNA@example.com", PASSWORD, "10.0.1.2").status_code == 302
    assert client.session["_auth_user_id"] == str(org.member_a.pk)


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
    body = refused.json()
    assert "Too many wrong passwords" in body["detail"]
    assert body["errors"]["current_password"] == [body["detail"]]
    assert org.member_a.__class__.objects.get(pk=org.member_a.pk).check_password(PASSWORD)

    pass_the_cooloff(PasswordGuess, "at")
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
    assert not PasswordGuess.objects.exists()


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

    statuses = [change(f"guess-{n}").status_code for n in range(3)]
    refused = change(PASSWORD)
    assert statuses == [422, 422, 429]
    assert refused.status_code == 429
    assert "Too many wrong passwords. Please wait 15 minutes" in refused.content.decode()
