"""The SQLite backend's pool: a connection closed cleanly serves the next request.

Run in a fresh process on a database file: the tests' own database is in memory,
which is never pooled.
"""

import os
import subprocess
import sys

SCRIPT = """
import os
import django
django.setup()
from django.db import connection, transaction

def raw():
    connection.ensure_connection()
    return connection.connection

first = raw()
connection.close()
print("reused after a clean close:", raw() is first)

with transaction.atomic():
    connection.cursor().execute("SELECT 1")
    inside = connection.connection
    # A close inside a transaction (a failing request) must not hand on the transaction.
    connection.close()
connection.close()
print("reused after a close in a transaction:", raw() is inside)
print("foreign keys on:", connection.cursor().execute("PRAGMA foreign_keys").fetchone()[0] == 1)
pooled = raw()
connection.close()

read, write = os.pipe()
if os.fork() == 0:
    # The child must open its own: a SQLite connection may not cross a fork.
    os.write(write, str(raw() is pooled).encode())
    os._exit(0)
os.wait()
print("child reused the parent's:", os.read(read, 10).decode())
"""


def test_a_cleanly_closed_connection_is_reused_and_a_dirty_one_or_a_forked_one_is_not(tmp_path):
    environment = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PYTEST_")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="kontor.settings",
        KONTOR_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=environment, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "reused after a clean close: True",
        "reused after a close in a transaction: False",
        "foreign keys on: True",
        "child reused the parent's: False",
    ]
