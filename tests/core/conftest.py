"""Fixtures of the core tests that run real worker processes."""

import sqlite3
import uuid
from contextlib import closing
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection


@pytest.fixture
def database(tmp_path):
    """(DATABASE_URL for the subprocesses, a DB-API connection factory for the test)."""
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        path = tmp_path / "outbox.sqlite3"
        yield f"sqlite:///{path}", lambda: sqlite3.connect(path)
        return
    import psycopg

    name = f"kontor_outbox_{uuid.uuid4().hex[:12]}"
    server = {
        "host": db["HOST"],
        "port": db["PORT"] or 5432,
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    with closing(psycopg.connect(dbname="postgres", autocommit=True, **server)) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield (
            f"postgres://{quote(server['user'])}:{quote(server['password'])}"
            f"@{server['host']}:{server['port']}/{name}",
            lambda: psycopg.connect(dbname=name, autocommit=True, **server),
        )
    finally:
        with closing(psycopg.connect(dbname="postgres", autocommit=True, **server)) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
