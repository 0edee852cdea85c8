import pytest

from kontor.accounts.services import install_builtin_roles
from kontor.sales.defaults import install_default_pipeline


def _install_migrations_rows():
    install_builtin_roles()
    install_default_pipeline()


@pytest.fixture(autouse=True)
def migrations_rows(request):
    # A transactional test flushes every table afterwards, the migrations' rows too (the
    # roles, the default pipeline): each test here starts with them.
    if "transactional_db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("transactional_db")
        _install_migrations_rows()


@pytest.fixture(scope="module")
def migrations_rows_left_behind(django_db_setup, django_db_blocker):
    # ...and leaves them for the transactional tests of other modules that come after.
    yield
    with django_db_blocker.unblock():
        _install_migrations_rows()


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path / "media"
