"""Recorded imports: started with a stored file, run in the background a batch at a time,
audited, and undone (created records removed, updated ones restored) within access rules."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kontor.contacts import services as contacts
from kontor.contacts.models import Company, Person
from kontor.core import types
from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry
from kontor.imports import jobs
from kontor.imports.models import ImportedRecord, ImportJob

from . import files

COLUMNS = {"Имя": "first_name", "Должность": "position", "Компания": "company.name",
           "Эл. почта": "emails"}  # fmt: skip


def upload(rows, name="people.csv"):
    headers = list(COLUMNS)
    return SimpleUploadedFile(
        name, files.csv_bytes(headers, rows, encoding="cp1251", delimiter=";")
    )


def start(actor, rows, **options):
    return jobs.start_import(
        upload(rows), types.by_name("person"), actor=actor, columns=COLUMNS, reading={},
        options={"match_on": ["email"], **options},
    )  # fmt: skip


ROWS = [["Иван", "Директор", "Ромашка", "ivan@example.com"],
        ["Анна", "Бухгалтер", "Ромашка", "anna@example.com"],
        ["Олег", "", "Вектор", "bad email"]]  # fmt: skip


def test_a_job_runs_in_the_background_after_commit(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start(org.member_a, ROWS)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert (job.rows, job.created, job.failed, job.linked_created) == (3, 2, 1, 1)
    assert jobs.shown_problems(job) == [(4, "Эл. почта", "“bad email” is not a valid email.")]
    assert job.file.read().decode("cp1251").startswith("Имя;")
    assert job.last_line == 4
    # Every record it made is on the job: the two people and their company.
    assert sorted(ImportedRecord.objects.filter(job=job).values_list("object_type", flat=True)) == [
        "contacts.company", "contacts.person", "contacts.person"
    ]  # fmt: skip
    entries = AuditEntry.objects.filter(object_type="imports.importjob", object_id=job.pk)
    assert sorted(entries.values_list("action", "actor_id")) == [
        ("imports.importjob.created", org.member_a.pk),
        ("imports.importjob.started", org.member_a.pk),
    ]
    # The people themselves are audited by the bulk path, through the import channel.
    assert (
        AuditEntry.objects.filter(action="contacts.person.created", channel="import").count() == 2
    )


def test_a_bad_mapping_or_file_is_refused_before_anything_runs(org):
    with pytest.raises(ValidationFailed, match="Unknown fields: nope"):
        jobs.start_import(
            upload(ROWS), types.by_name("person"), actor=org.admin, columns={"Имя": "nope"},
            reading={}, options={},
        )  # fmt: skip
    with pytest.raises(ValidationFailed, match="not a spreadsheet"):
        jobs.start_import(
            SimpleUploadedFile("x.csv", b"\x00\x01\x02"), types.by_name("person"),
            actor=org.admin, columns=COLUMNS, reading={}, options={},
        )  # fmt: skip
    assert not ImportJob.objects.exists()
    with pytest.raises(PermissionDenied):
        start(org.nobody, ROWS)


def test_undo_removes_what_it_created_and_restores_what_it_updated(org):
    ivan = contacts.create_person(
        {"first_name": "Ivan", "position": "", "emails": [{"address": "ivan@example.com"}]},
        actor=org.sales_head,
    )
    before = Person.objects.count(), Company.objects.count()
    job = jobs.run(start(org.sales_head, ROWS, on_match="fill"))
    assert (job.created, job.updated) == (1, 1)
    ivan.refresh_from_db()
    assert ivan.position == "Директор" and ivan.company.name == "Ромашка"
    counts = jobs.undo(job, actor=org.sales_head)
    assert counts == {"deleted": 2, "restored": 1, "gone": 0, "left": 0}
    ivan.refresh_from_db()
    assert (ivan.position, ivan.company, ivan.first_name) == ("", None, "Ivan")
    assert (Person.objects.count(), Company.objects.count()) == before
    job.refresh_from_db()
    assert (job.state, job.undone_by) == (ImportJob.State.UNDONE, org.sales_head)
    assert AuditEntry.objects.filter(action="imports.importjob.undone", object_id=job.pk).exists()
    with pytest.raises(PermissionDenied):  # once
        jobs.undo(job, actor=org.sales_head)


def test_who_sees_and_undoes_an_import(org):
    job = jobs.run(start(org.member_a, ROWS))
    assert jobs.job_for(org.admin, job.pk) == job
    with pytest.raises(Exception, match="Not found"):
        jobs.job_for(org.member_b, job.pk)
    with pytest.raises(PermissionDenied):
        jobs.undo(job, actor=org.sales_head)
    # A member may not delete records, even their own: their undo leaves them, the job
    # stays undoable, and an administrator's undo removes the rest.
    assert jobs.undo(job, actor=org.member_a) == {"deleted": 0, "restored": 0, "gone": 0, "left": 3}
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    Person.objects.filter(first_name="Иван").delete()  # someone deleted one meanwhile
    assert jobs.undo(job, actor=org.admin) == {"deleted": 2, "restored": 0, "gone": 1, "left": 0}
    assert not Person.objects.exists() and not Company.objects.exists()


def test_a_run_stopped_by_a_bad_line_keeps_its_batches_and_is_undoable(org):
    rows = [[f"P{i}", "", "", f"p{i}@example.com"] for i in range(5)]
    data = files.csv_bytes(list(COLUMNS), rows, encoding="utf-8", delimiter=";")
    data += "Ёлка;;;e@example.com\r\n".encode("cp1251")  # not UTF-8: found on line 7
    job = jobs.upload(
        SimpleUploadedFile("p.csv", data[: data.index(b"\r\n", 40) + 2]), types.by_name("person"),
        actor=org.admin, reading={"encoding": "utf-8"},
    )  # fmt: skip
    job.file.save("p.csv", SimpleUploadedFile("p.csv", data), save=True)  # replaced meanwhile
    jobs.start(job, actor=org.admin, columns=COLUMNS, options={"batch_size": 2})
    job = jobs.run(job)
    assert job.state == ImportJob.State.FAILED and "Line 7 is not in utf-8" in job.message
    job.refresh_from_db()
    assert (job.created, job.rows, jobs.shown_problems(job)) == (4, 4, [])  # two batches of two
    assert Person.objects.count() == 4
    assert jobs.undo(job, actor=org.admin)["deleted"] == job.created
