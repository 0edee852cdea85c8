"""A recorded import with a helper process cleaning part of each batch (kontor.core.forked)
stores exactly what the importer alone stores, byte for byte, in every table; a helper
that dies, hangs or needs the database changes nothing but the time taken; none is left
running afterwards."""

import multiprocessing
import os
import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from freezegun import freeze_time

from kontor.contacts.models import Tag
from kontor.core import bulk, types
from kontor.core.context import Channel, acting
from kontor.imports import jobs
from kontor.imports.models import ImportJob

from . import files

pytestmark = pytest.mark.django_db

BATCH = 50
COLUMNS = {"First name": "first_name", "Last name": "last_name", "Email": "emails",
           "Phone": "phones", "Company": "company.name", "Tags": "tags"}  # fmt: skip
# The stored file's name is made unique per upload.
NOT_COMPARED = {("imports_importjob", "file")}
FULL_TEXT_PAGES = {"core_search_fts_data", "core_search_fts_idx"}


def rows() -> list[list[str]]:
    made = []
    for n in range(160):
        email = f"p{n}@helper.example"
        if n == 44:  # in the helper's share of the first batch, with a company: the batch
            email = "not an email"  # is written again without it
        if n == 70:
            email = "p3@helper.example"  # a duplicate of an earlier batch's row
        # A tag nobody has yet, on a helper's row: the helper would have to create it.
        tags = "VIP, Newcomer" if n == 130 else "VIP"
        phone = f"+7 916 555-{n // 100:02d}-{n % 100:02d}"
        last = "Ivanova" if n % 3 else "Петрова"
        made.append([f"Name{n}", last, email, phone, f"Firm {n % 23}", tags])
    return made


def import_file(actor) -> ImportJob:
    data = files.csv_bytes(list(COLUMNS), rows())
    job = jobs.start_import(
        SimpleUploadedFile("people.csv", data), types.by_name("person"), actor=actor,
        columns=COLUMNS, reading={}, options={"match_on": ["email"], "batch_size": BATCH},
        background=False,
    )  # fmt: skip
    return jobs.run(job)


def every_table() -> dict[str, list]:
    """Each table's rows as stored (SQLite hands back its text and numbers as they are)."""
    dumped = {}
    with connection.cursor() as cursor:
        # The full-text index's pages hold a segment per statement that fed it (the
        # helper's rows have statements of their own): compared by every term's every
        # place in every document instead.
        cursor.execute(
            "CREATE VIRTUAL TABLE temp.fts_terms USING fts5vocab(main, core_search_fts, instance)"
        )
        cursor.execute("SELECT * FROM temp.fts_terms")
        dumped["full-text index"] = sorted(cursor.fetchall(), key=repr)
        for table in set(connection.introspection.table_names(cursor)) - FULL_TEXT_PAGES:
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            kept = [c for c in columns if (table, c) not in NOT_COMPARED]
            quoted = ", ".join(connection.ops.quote_name(c) for c in kept)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            dumped[table] = sorted(cursor.fetchall(), key=repr)
    return dumped


@pytest.fixture
def main_cleans(monkeypatch):
    """The rows this process cleaned itself (a helper's are counted in its own copy)."""
    cleaned = []
    clean_row = bulk._clean_row

    def counted(plan, importer, placement, data, actor):
        cleaned.append(data)
        return clean_row(plan, importer, placement, data, actor)

    monkeypatch.setattr(bulk, "_clean_row", counted)
    return cleaned


@pytest.fixture
def helper_on(settings, monkeypatch):
    settings.KONTOR_IMPORT_HELPER = True
    settings.KONTOR_IMPORT_HELPER_MIN_ROWS = 10
    settings.KONTOR_IMPORT_HELPER_MAX_MB = 100_000  # whatever the test process holds
    # Also where this test runs on one core: the helper is then slower, not wrong.
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})


def imported_with(settings, actor, *, helper: bool) -> tuple[ImportJob, dict]:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's sequences do not roll back: a second run has other ids")
    settings.KONTOR_IMPORT_HELPER = helper
    # One moment and one request id for both runs: what differs is the helper.
    with (
        freeze_time("2026-12-01 09:30:00"),
        acting(Channel.IMPORT, "helper-test"),
        transaction.atomic(),
    ):
        job = import_file(actor)
        stored = every_table()
        transaction.set_rollback(True)  # the next run starts from the same database
    return job, stored


def test_the_helper_stores_what_the_importer_alone_stores(org, settings, helper_on, main_cleans):
    Tag.objects.create(name="VIP")
    alone, alone_stored = imported_with(settings, org.admin, helper=False)
    cleaned_alone = len(main_cleans)
    main_cleans.clear()
    helped, helped_stored = imported_with(settings, org.admin, helper=True)

    assert (alone.state, alone.created, alone.failed, alone.linked_created) == ("done", 158, 2, 23)
    assert helped_stored == alone_stored
    assert (helped.state, helped.created, helped.failed) == ("done", 158, 2)
    # The helper cleaned its share of most batches; this process cleaned the rest and, for
    # the batch it wrote again and the one with a new tag, the helper's share too.
    assert len(main_cleans) < cleaned_alone - 2 * 30


def test_a_helper_that_dies_or_hangs_changes_nothing_but_the_time(
    org, settings, helper_on, monkeypatch
):
    Tag.objects.create(name="VIP")
    _job, alone_stored = imported_with(settings, org.admin, helper=False)
    importer = os.getpid()
    clean_row = bulk._clean_row
    rows_seen = []

    def failing(plan, importer_, placement, data, actor):
        if os.getpid() != importer:
            rows_seen.append(data)
            if len(rows_seen) == 5:  # killed in the middle of its first batch
                os.kill(os.getpid(), signal.SIGKILL)
        return clean_row(plan, importer_, placement, data, actor)

    monkeypatch.setattr(bulk, "_clean_row", failing)
    _job, killed_stored = imported_with(settings, org.admin, helper=True)
    assert killed_stored == alone_stored

    def hanging(plan, importer_, placement, data, actor):
        if os.getpid() != importer:
            time.sleep(60)
        return clean_row(plan, importer_, placement, data, actor)

    monkeypatch.setattr(bulk, "_clean_row", hanging)
    settings.KONTOR_IMPORT_HELPER_SECONDS = 0.2
    started = time.monotonic()
    _job, hung_stored = imported_with(settings, org.admin, helper=True)
    assert hung_stored == alone_stored
    assert time.monotonic() - started < 30
    assert multiprocessing.active_children() == []
    assert not children_of(importer)


def children_of(pid: int) -> list[str]:
    return [
        child
        for task in os.listdir(f"/proc/{pid}/task")
        for child in open(f"/proc/{pid}/task/{task}/children").read().split()
    ]


def test_no_helper_is_left_after_an_import_that_fails(org, helper_on, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the disk is gone")

    monkeypatch.setattr(bulk, "_write", broken)
    with pytest.raises(RuntimeError):
        import_file(org.admin)
    assert ImportJob.objects.get().state == ImportJob.State.FAILED
    assert multiprocessing.active_children() == []
    assert not children_of(os.getpid())


def test_no_helper_is_forked_while_the_importer_holds_more_memory_than_allowed(
    org, settings, helper_on, main_cleans
):
    settings.KONTOR_IMPORT_HELPER_MAX_MB = 1
    job = import_file(org.admin)
    # Every row cleaned here: 160 read, 2 failing before cleaning, the first batch's
    # rows again after the failed one, and the 23 companies.
    assert job.state == "done" and len(main_cleans) == 254
