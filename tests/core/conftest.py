"""Fixtures of the core tests that run real worker processes."""

import os
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


@pytest.fixture
def redis_url():
    """A Redis database of this test's own on the server scripts/test starts
    (``KONTOR_TEST_REDIS_URL``), emptied before and after; skipped without one."""
    import redis

    server = os.environ.get("KONTOR_TEST_REDIS_URL")
    if not server:
        pytest.skip("no Redis server: set KONTOR_TEST_REDIS_URL (scripts/test starts one)")
    # One database number per xdist process: their queues must not meet.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    url = f"{server.rstrip('/')}/{1 + int(worker.removeprefix('gw')) % 15}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def rq_backend(settings, redis_url):
    """KONTOR_TASKS_BACKEND=rq for this test, on its own Redis database."""
    settings.KONTOR_TASKS_BACKEND = "rq"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": redis_url}}
    return redis_url
