"""An import whose run dies is resumed after its last written line: the rows written
before stay once, the rest are written, duplicates within the file are still found
across the cut, and a job that dies on every attempt ends failed. Runs hold a claim
(a lease) that another run cannot take while it lives.

The same with real processes killed by SIGKILL: test_kill.py."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kontor.contacts.models import Company, Person
from kontor.core import types
from kontor.imports import jobs
from kontor.imports.models import ImportedRecord, ImportJob, ImportKey

from . import files

COLUMNS = {"Name": "first_name", "Email": "emails", "Company": "company.name"}


class Died(BaseException):
    """The process running the import died here (nothing below it runs)."""


def started(actor, rows, **options):
    data = files.csv_bytes(list(COLUMNS), rows, encoding="utf-8", delimiter=",")
    return jobs.start_import(
        SimpleUploadedFile("people.csv", data), types.by_name("person"), actor=actor,
        columns=COLUMNS, reading={},
        options={"match_on": ["email"], "batch_size": 3, **options}, background=False,
    )  # fmt: skip


def dies_after(batches: int):
    seen = []

    def progress(outcome):
        seen.append(outcome.rows)
        if len(seen) == batches:
            raise Died()

    return progress


def lapse(job):
    ImportJob.objects.filter(pk=job.pk).update(
        lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )


ROWS = [[f"P{i}", f"p{i}@example.com", f"Firm {i % 2}"] for i in range(10)]
ROWS[8] = ["Again", "p1@example.com", "Firm 0"]  # line 10 repeats line 3's email


def test_a_dead_run_is_resumed_after_its_last_line_by_the_workers_pass(org):
    job = started(org.admin, ROWS)
    with pytest.raises(Died):
        jobs.run(job, progress=dies_after(2))
    job.refresh_from_db()
    assert (job.state, job.last_line, job.rows, job.created, job.attempts) == (
        ImportJob.State.RUNNING, 7, 6, 6, 1
    )  # fmt: skip
    assert Person.objects.count() == 6 and ImportKey.objects.filter(job=job).count() == 6
    # Its claim lives: nobody else runs it, the pass leaves it.
    assert jobs.run(job).state == ImportJob.State.RUNNING and job.attempts == 1
    assert jobs.resume_abandoned() == 0

    lapse(job)
    assert jobs.resume_abandoned() == 1  # queued again; the test's job backend runs it now
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows, job.created, job.failed) == (
        ImportJob.State.DONE, 2, 10, 9, 1
    )  # fmt: skip
    assert jobs.shown_problems(job) == [(10, "Email", "Duplicate of line 3 (p1@example.com).")]
    emails = sorted(Person.objects.values_list("emails__address", flat=True))
    assert emails == sorted({row[1] for row in ROWS})  # each once, none lost
    assert Company.objects.count() == 2
    assert ImportedRecord.objects.filter(job=job).count() == 9 + 2
    assert not ImportKey.objects.filter(job=job).exists()  # dropped at the end
    assert jobs.resume_abandoned() == 0


def test_a_run_whose_claim_was_taken_over_writes_no_more(org):
    job = started(org.admin, ROWS)
    taken_over = []

    def progress(outcome):
        if not taken_over:  # a slow first batch: its claim lapsed, another run took it
            lapse(job)
            taken_over.append(jobs.claim(ImportJob.objects.get(pk=job.pk)))

    job = jobs.run(job, progress=progress)
    assert taken_over == [True]
    assert (job.state, job.attempts, job.last_line) == (ImportJob.State.RUNNING, 2, 4)
    assert Person.objects.count() == 3  # the second batch was not written


def test_an_import_dying_on_every_attempt_ends_failed(org, settings):
    settings.KONTOR_IMPORT_ATTEMPTS = 2
    job = started(org.admin, ROWS)
    for _attempt in range(2):
        with pytest.raises(Died):
            jobs.run(ImportJob.objects.get(pk=job.pk), progress=dies_after(1))
        lapse(job)
        ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.WAITING)
    job = jobs.run(ImportJob.objects.get(pk=job.pk))
    assert (job.state, job.attempts) == (ImportJob.State.FAILED, 3)
    assert job.message == "The import stopped unexpectedly on every attempt."
    assert Person.objects.count() == 6  # two batches written, and undoable
    assert jobs.undo(job, actor=org.admin)["deleted"] == 6 + 2


def test_a_run_that_lost_its_claim_does_not_end_the_job(org):
    job = started(org.admin, ROWS)
    rows = [[f"P{i}", f"p{i}@example.com", "Firm"] for i in range(4)]
    data = files.csv_bytes(list(COLUMNS), rows, encoding="utf-8", delimiter=",")
    data += "Ёлка,e@example.com,Firm\n".encode("cp1251")  # not UTF-8: line 6
    job.file.save("people.csv", SimpleUploadedFile("people.csv", data), save=False)
    job.reading = {"encoding": "utf-8"}
    job.save(update_fields=["file", "reading"])

    def taken_over(outcome):  # a slow first batch: another run took the job meanwhile
        lapse(job)
        jobs.claim(ImportJob.objects.get(pk=job.pk))

    job = jobs.run(job, progress=taken_over)
    # This run met the bad line after losing its claim: the job is the other run's.
    assert (job.state, job.attempts, job.message) == (ImportJob.State.RUNNING, 2, "")
