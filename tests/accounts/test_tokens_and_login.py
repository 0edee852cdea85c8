import datetime

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kontor.accounts import services
from kontor.accounts.models import ApiToken, hash_token
from kontor.core.access import SYSTEM
from kontor.core.errors import PermissionDenied
from tests.conftest import PASSWORD


def every_stored_value() -> str:
    """All rows of all tables as text: a secret absent from it is absent from the DB."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_token_is_stored_only_as_a_hash(org):
    raw = services.issue_token(org.member_a, name="laptop", actor=org.member_a)
    token = ApiToken.objects.get(user=org.member_a)
    assert token.token_hash == hash_token(raw)
    stored = every_stored_value()
    assert token.token_hash in stored
    assert raw not in stored and raw[10:] not in stored


def test_revoked_token_is_refused(org, client):
    raw = services.issue_token(org.member_a, actor=org.member_a)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/tokens", headers=headers).status_code == 200
    services.revoke_token(ApiToken.objects.get(user=org.member_a), actor=org.member_a)
    assert services.user_for_token(raw) is None
    assert client.get("/api/v1/tokens", headers=headers).status_code == 401


def test_token_of_a_deactivated_user_is_refused(org):
    raw = services.issue_token(org.member_a, actor=org.member_a)
    assert services.user_for_token(raw) == org.member_a
    services.deactivate_user(org.member_a, actor=org.admin)
    assert services.user_for_token(raw) is None


def test_unknown_or_malformed_tokens_are_refused(org):
    assert services.user_for_token("") is None
    assert services.user_for_token("kt_nonsense") is None
    assert services.user_for_token("Bearer x") is None


def test_last_used_is_set_on_use_and_written_at_most_once_a_minute(org):
    raw = services.issue_token(org.member_a, actor=org.member_a)
    token = ApiToken.objects.get(user=org.member_a)
    assert token.last_used_at is None

    assert services.user_for_token(raw) == org.member_a
    first_use = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first_use is not None

    with CaptureQueriesContext(connection) as queries:
        services.user_for_token(raw)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first_use

    a_minute_ago = timezone.now() - datetime.timedelta(seconds=61)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=a_minute_ago)
    services.user_for_token(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first_use


def test_only_the_owner_or_a_superuser_issues_tokens(org):
    with pytest.raises(PermissionDenied):
        services.issue_token(org.member_a, actor=org.admin)
    assert not ApiToken.objects.filter(user=org.member_a).exists()
    services.issue_token(org.member_a, actor=SYSTEM)
    assert ApiToken.objects.filter(user=org.member_a).count() == 1


def login_attempt(email, password):
    request = RequestFactory().post("/login/", {"username": email, "password": password})
    return authenticate(request, username=email, password=password)


def test_five_wrong_passwords_lock_the_sixth_attempt_even_when_right(org):
    assert login_attempt("boris@example.com", PASSWORD) == org.member_b
    for _ in range(5):
        assert login_attempt("anna@example.com", "wrong password") is None
    assert login_attempt("anna@example.com", PASSWORD) is None


@pytest.mark.parametrize("roles", [[], ["member"], ["member", "head"]])
def test_a_token_brings_its_user_with_the_grants_of_all_their_roles_in_one_query(
    org, make_user, roles
):
    user = make_user("tokens@example.com", department=org.dept.team1, roles=roles)
    raw = services.issue_token(user, actor=user)
    services.user_for_token(raw)  # the first use writes last_used_at

    with CaptureQueriesContext(connection) as queries:
        found = services.user_for_token(raw)
        grants = found.access_grants()
    assert len(queries.captured_queries) == 1

    fresh = type(user).objects.get(pk=user.pk)
    assert found == user and found.email == user.email and found.is_active is True
    assert found.date_joined == fresh.date_joined
    assert grants == fresh.access_grants()
    assert bool(grants) == bool(roles)
