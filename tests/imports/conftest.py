import io

import pytest

from kontor.core import types
from kontor.imports import mapping, services
from kontor.imports.reading import open_table
from tests.core.conftest import database  # noqa: F401  (a database of its own: test_kill)


@pytest.fixture(autouse=True)
def files_in_memory(settings):
    # Stored spreadsheets (recorded imports) go nowhere on disk.
    memory = {"BACKEND": "django.core.files.storage.InMemoryStorage"}
    settings.STORAGES = {**settings.STORAGES, "default": memory}


@pytest.fixture
def run(org):
    """Import bytes as a type (mapping suggested from the headers unless given)."""

    def run_bytes(data: bytes, type_name="person", *, actor=None, keys=None, dry_run=False,
                  day_first=True, reading=None, **options):  # fmt: skip
        actor = actor or org.admin
        record_type = types.by_name(type_name)
        table = open_table(io.BytesIO(data), **(reading or {}))
        available = mapping.targets(record_type, actor)
        keys = keys if keys is not None else mapping.suggest(table.headers, available)
        chosen = mapping.Mapping.of(keys, available, day_first=day_first)
        return services.run_import(
            table, chosen, record_type, actor=actor, dry_run=dry_run,
            options=services.Options(**options),
        )  # fmt: skip

    return run_bytes
