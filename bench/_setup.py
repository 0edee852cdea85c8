"""Point Django at a benchmark database before anything imports it."""

import os
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
DEFAULT_DB = OUT_DIR / "kontor-1m.sqlite3"


def configure(database_url: str | None) -> None:
    OUT_DIR.mkdir(exist_ok=True)
    sys.path.insert(0, str(BENCH_DIR.parent))
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{DEFAULT_DB}"
    os.environ.setdefault("KONTOR_VAR_DIR", str(OUT_DIR / "var"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontor.settings")
    import django

    django.setup()
