"""SQLite connection pragmas as a fresh process gets them (settings are read once)."""

import os
import subprocess
import sys

PRAGMAS = (
    "import django; django.setup(); from django.db import connection; "
    "cursor = connection.cursor(); "
    "print(*[cursor.execute(f'PRAGMA {p}').fetchone()[0] for p in ('mmap_size', 'cache_size')])"
)


def pragmas(tmp_path, **env) -> list[int]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "KONTOR_SQLITE_MMAP_MB"} and not k.startswith("PYTEST_")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="kontor.settings",
        KONTOR_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", PRAGMAS], env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return [int(v) for v in result.stdout.split()]


def test_sqlite_memory_maps_the_file_and_the_size_comes_from_the_environment(tmp_path):
    mmap_size, cache_size = pragmas(tmp_path)
    # 4 GB asked; SQLite grants at most its build's limit (2 GB on Debian).
    assert mmap_size >= 2**31 - 2**16
    assert cache_size == -65536

    assert pragmas(tmp_path, KONTOR_SQLITE_MMAP_MB="64")[0] == 64 * 1024 * 1024
    assert pragmas(tmp_path, KONTOR_SQLITE_MMAP_MB="0")[0] == 0
