"""Schema fuzzing: schemathesis drives every operation of /api/v1/openapi.json.

Each operation is tried with valid and invalid input (query, path, body, headers) as
each built-in role (admin, head, member) on the demo company, in process through the
WSGI app. A response must never be a 5xx, its status must be one the operation
declares, its body must match the declared schema, and input that breaks the schema
must be refused with a 4xx. Each test runs in a transaction rolled back after it, so
what one operation writes does not leak into the next.

The fuzzer never targets its own credentials: revoking its token, deactivating its
own user, or changing its own password or roles would only turn the rest of the run
into 401s. Examples per operation: ``KONTOR_FUZZ_EXAMPLES`` (default 15).
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from django.test import override_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from kontor import demo
from kontor.accounts import services as accounts
from kontor.accounts.models import ApiToken, User, hash_token
from kontor.core.access import SYSTEM

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("KONTOR_FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"  # as tests/conftest.py
# Who plays each built-in role: (role, department) of a demo employee.
ROLES = {"admin": "Management", "head": "Sales", "member": "Sales Team North"}


@dataclass
class Fuzzer:
    user_id: int
    token_id: int
    token: str


@pytest.fixture(scope="module")
def fuzzers(django_db_setup, django_db_blocker):
    """The demo company (smaller than ``kontor demo``'s) and a token per role, module-wide."""
    # Each test's rollback needs one connection for all its requests, as with Django's
    # test client; the WSGI handler would otherwise close it after every request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    fast_hashing = override_settings(PASSWORD_HASHERS=[FAST_HASHER])
    with django_db_blocker.unblock(), fast_hashing:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            # Pages and exports are as long as the data: a small company keeps calls quick.
            demo.load_demo(companies=40, people=100, deals=200)
            found = {}
            for role, department in ROLES.items():
                user = User.objects.filter(roles__name=role, department__name=department).first()
                raw = accounts.issue_token(user, name="fuzz", actor=SYSTEM)
                token = ApiToken.objects.get(token_hash=hash_token(raw))
                found[role] = Fuzzer(user.pk, token.pk, raw)
            yield found
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
_playing: dict[str, Fuzzer] = {}


@pytest.fixture
def fuzzer(fuzzers, role) -> Fuzzer:
    _playing["now"] = fuzzers[role]
    yield fuzzers[role]
    _playing.clear()


@schema.hook
def filter_path_parameters(context, path_parameters):
    """Never the fuzzer's own user or token: see the module's docstring."""
    me = _playing.get("now")
    return (
        me is None
        or not path_parameters
        or (
            path_parameters.get("user_id") != me.user_id
            and path_parameters.get("token_id") != me.token_id
        )
    )


@pytest.mark.parametrize("role", list(ROLES))
@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)
def test_api_operation(role, fuzzer, db, case, statuses):
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzzer.token}"}, checks=CHECKS
    )
    statuses[f"{response.status_code // 100}xx"] += 1


@pytest.fixture
def statuses(role, record_property):
    """Responses of one operation by class, for the step's summary (tests/fuzz/conftest.py)."""
    counts = collections.Counter()
    yield counts
    record_property("fuzz", {"role": role, "statuses": dict(counts)})
