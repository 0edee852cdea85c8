"""Shared fixtures: a small company with a department tree and users in every position.

Company (root)
├── Sales            head: sales_head
│   ├── Sales Team 1 members: member_a, member_b
│   └── Sales Team 2 member:  member_c
└── Support          member:  support_member
admin (role admin, in Company), superuser (no roles), nobody (no roles, Sales Team 1)
"""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import translation

from kontor.accounts import services as accounts
from kontor.accounts.models import Role
from kontor.catalog import services as catalog_services
from kontor.core import types as core_types
from kontor.core.access import SYSTEM
from kontor.objects import registry as object_registry
from kontor.objects import services as object_services
from kontor.objects.models import CustomRecord, ObjectTypeDefinition

# The shared test helpers assert too: show what differed, as in a test module.
pytest.register_assert_rewrite("tests.utils")

PASSWORD = "Kontor-test-pass-1"


@pytest.fixture
def make_user(db):
    def make(email, *, department=None, roles=(), is_superuser=False, first_name="", last_name=""):
        return accounts.create_user(
            email=email,
            password=PASSWORD,
            first_name=first_name,
            last_name=last_name,
            department=department,
            roles=[Role.objects.get(name=r) for r in roles],
            is_superuser=is_superuser,
            actor=SYSTEM,
        )

    return make


@pytest.fixture
def org(db, make_user):
    dept = SimpleNamespace()
    dept.root = accounts.create_department(name="Company", actor=SYSTEM)
    dept.sales = accounts.create_department(name="Sales", parent=dept.root, actor=SYSTEM)
    dept.team1 = accounts.create_department(name="Sales Team 1", parent=dept.sales, actor=SYSTEM)
    dept.team2 = accounts.create_department(name="Sales Team 2", parent=dept.sales, actor=SYSTEM)
    dept.support = accounts.create_department(name="Support", parent=dept.root, actor=SYSTEM)
    return SimpleNamespace(
        dept=dept,
        admin=make_user("admin@example.com", department=dept.root, roles=["admin"]),
        superuser=make_user("root@example.com", is_superuser=True),
        sales_head=make_user("head@example.com", department=dept.sales, roles=["head"]),
        member_a=make_user("anna@example.com", department=dept.team1, roles=["member"]),
        member_b=make_user("boris@example.com", department=dept.team1, roles=["member"]),
        member_c=make_user("clara@example.com", department=dept.team2, roles=["member"]),
        support_member=make_user("sam@example.com", department=dept.support, roles=["member"]),
        nobody=make_user("nobody@example.com", department=dept.team1),
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs seconds per fixture; tests do not need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def jobs_run_at_once(settings):
    # A background job runs when it is enqueued (django-tasks' immediate backend), so a
    # test sees its effect; tests/core/test_jobs.py runs them through the real backends.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def english_outside_requests():
    # A request activates its language for the thread and leaves it active afterwards; a
    # test that renders text outside a request must not inherit the previous test's.
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def define_type(org):
    """Define custom object types for a test; they leave the registry when it ends
    (the rollback removes the rows, but a process keeps its types until it syncs)."""

    def define(slug: str, singular: str, plural: str, **extra):
        object_services.create_definition(
            {"slug": slug, "singular": singular, "plural": plural, **extra}, actor=org.admin
        )
        return core_types.get(f"objects.{slug}")

    yield define
    CustomRecord.objects.all().delete()
    ObjectTypeDefinition.objects.all().delete()
    object_registry.sync(force=True)


@pytest.fixture
def rates(org):
    """Germany's rates: standard 19 % (the default, made first), reduced 7 %, zero."""
    return {
        "standard": catalog_services.create_vat_rate(
            {"name": "Standard", "rate": "19.00"}, actor=org.admin
        ),
        "reduced": catalog_services.create_vat_rate(
            {"name": "Reduced", "rate": "7"}, actor=org.admin
        ),
        "zero": catalog_services.create_vat_rate(
            {"name": "Zero", "rate": Decimal("0")}, actor=org.admin
        ),
    }
