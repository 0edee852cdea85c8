"""Settings as a fresh process sees them: from the environment, with safe defaults.

Settings are read once per process, so each case runs in a new Python process with its
own KONTOR_VAR_DIR and environment.
"""

import json
import os
import stat
import subprocess
import sys

SETUP = "import django; django.setup(); from django.conf import settings; "


def run_with_settings(var_dir, code: str, **env: str) -> str:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "KONTOR_SECRET_KEY"} and not k.startswith("PYTEST_")
    }
    environment.update(DJANGO_SETTINGS_MODULE="kontor.settings", KONTOR_VAR_DIR=str(var_dir))
    environment.update(env)
    result = subprocess.run(
        [sys.executable, "-c", SETUP + code],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_secret_key_is_generated_once_private_and_reused(tmp_path):
    key_file = tmp_path / "secret_key"

    first = run_with_settings(tmp_path, "print(settings.SECRET_KEY)")
    second = run_with_settings(tmp_path, "print(settings.SECRET_KEY)")

    assert len(first) >= 50
    assert key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert second == first


def test_secret_key_from_the_environment_wins_and_writes_nothing(tmp_path):
    key = run_with_settings(tmp_path, "print(settings.SECRET_KEY)", KONTOR_SECRET_KEY="from-env")

    assert key == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_default_database_is_sqlite_in_wal_mode_under_the_var_dir(tmp_path):
    out = run_with_settings(
        tmp_path,
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); "
        "print(connection.vendor, connection.settings_dict['NAME'], c.fetchone()[0])",
    )

    assert out == f"sqlite {tmp_path / 'kontor.sqlite3'} wal"
    assert (tmp_path / "kontor.sqlite3").exists()


def test_an_empty_database_url_means_the_embedded_default(tmp_path):
    out = run_with_settings(
        tmp_path,
        "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'])",
        DATABASE_URL="",
    )

    assert out == f"kontor.core.sqlite {tmp_path / 'kontor.sqlite3'}"


def test_sqlite_database_url_selects_that_file(tmp_path):
    path = tmp_path / "elsewhere.db"

    out = run_with_settings(
        tmp_path,
        "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'])",
        DATABASE_URL=f"sqlite:///{path}",
    )

    assert out == f"kontor.core.sqlite {path}"


def test_postgres_database_url_selects_the_postgresql_engine(tmp_path):
    out = run_with_settings(
        tmp_path,
        "import json; print(json.dumps({k: settings.DATABASES['default'][k] for k in "
        "('ENGINE', 'NAME', 'USER', 'PASSWORD', 'HOST', 'PORT')}))",
        DATABASE_URL="postgres://crm:s3cret@db.internal:6543/kontor_prod",
    )

    assert json.loads(out) == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "kontor_prod",
        "USER": "crm",
        "PASSWORD": "s3cret",
        "HOST": "db.internal",
        "PORT": 6543,
    }


def test_debug_hosts_and_phone_region_come_from_the_environment(tmp_path):
    out = run_with_settings(
        tmp_path,
        "print(settings.DEBUG, settings.ALLOWED_HOSTS, settings.KONTOR_PHONE_REGION)",
        KONTOR_DEBUG="true",
        KONTOR_ALLOWED_HOSTS="crm.example.com, 10.0.0.5",
        KONTOR_PHONE_REGION="DE",
    )
    defaults = run_with_settings(
        tmp_path, "print(settings.DEBUG, settings.ALLOWED_HOSTS, settings.KONTOR_PHONE_REGION)"
    )

    assert out == "True ['crm.example.com', '10.0.0.5'] DE"
    assert defaults == "False ['127.0.0.1', 'localhost'] RU"


HTTPS_PROBE = (
    "import json; from django.test import Client; "
    "r = Client().get('/login/', headers={'x-forwarded-proto': 'https'}); "
    "plain = Client().get('/login/'); "
    "print(json.dumps({'status': r.status_code, 'hsts': r.get('Strict-Transport-Security'), "
    "'csrf_cookie_secure': bool(r.cookies['csrftoken']['secure']), "
    "'session_cookie_secure': settings.SESSION_COOKIE_SECURE, "
    "'plain': [plain.status_code, plain.get('Location')]}))"
)


def test_kontor_https_turns_on_hsts_secure_cookies_and_trusts_the_proxy(tmp_path):
    env = {"KONTOR_ALLOWED_HOSTS": "testserver"}
    off = json.loads(run_with_settings(tmp_path, HTTPS_PROBE, **env))
    on = json.loads(run_with_settings(tmp_path, HTTPS_PROBE, KONTOR_HTTPS="1", **env))
    redirecting = json.loads(
        run_with_settings(
            tmp_path,
            HTTPS_PROBE,
            KONTOR_HTTPS="1",
            KONTOR_HSTS_SECONDS="600",
            KONTOR_HTTPS_REDIRECT="1",
            **env,
        )
    )

    assert off == {
        "status": 200,
        "hsts": None,
        "csrf_cookie_secure": False,
        "session_cookie_secure": False,
        "plain": [200, None],
    }
    assert on == {
        "status": 200,
        "hsts": "max-age=31536000",
        "csrf_cookie_secure": True,
        "session_cookie_secure": True,
        "plain": [200, None],
    }
    assert redirecting["hsts"] == "max-age=600"
    assert redirecting["plain"] == [301, "https://testserver/login/"]


def test_mail_goes_to_files_in_var_by_default_and_to_smtp_when_configured(tmp_path):
    run_with_settings(
        tmp_path,
        "from django.core.mail import send_mail; "
        "send_mail('Reset', 'Open the link', None, ['anna@example.com'])",
    )
    (mail_file,) = (tmp_path / "mail").iterdir()
    sent = mail_file.read_text()
    assert "To: anna@example.com" in sent and "From: kontor@localhost" in sent

    smtp = run_with_settings(
        tmp_path,
        "print(settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, "
        "settings.EMAIL_USE_TLS, settings.DEFAULT_FROM_EMAIL)",
        KONTOR_EMAIL_BACKEND="smtp",
        KONTOR_EMAIL_HOST="mail.example.com",
        KONTOR_EMAIL_PORT="587",
        KONTOR_EMAIL_STARTTLS="true",
        KONTOR_EMAIL_FROM="crm@example.com",
    )
    assert smtp == (
        "django.core.mail.backends.smtp.EmailBackend mail.example.com 587 True crm@example.com"
    )
