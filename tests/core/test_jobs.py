"""Background jobs through the database backend (kontor.core.jobs): a reset link asked for
on the forgot-password page is mailed by the dispatcher's pass, not by the request."""

import re

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kontor.core import events, jobs

LINK = re.compile(r"https?://[^/\s]+(/\S+)")
DATABASE_BACKEND = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
}


@pytest.fixture
def database_jobs(settings):
    settings.TASKS = DATABASE_BACKEND


def test_a_reset_link_is_mailed_by_the_worker_not_by_the_request(client, org, database_jobs):
    response = client.post(reverse("web:password_reset"), {"email": "anna@example.com"})

    assert response.status_code == 302
    assert not mail.outbox
    (job,) = DBTaskResult.objects.all()
    assert job.status == TaskResultStatus.READY
    assert job.task_path == "kontor.accounts.jobs.mail_reset_link"
    # The job holds no working link: its token is made when the mail goes.
    assert "token" not in str(job.args_kwargs)

    assert events.run_pass() == 1

    job.refresh_from_db()
    assert job.status == TaskResultStatus.SUCCESSFUL
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]
    path = LINK.search(mail.outbox[0].body)[1]
    assert "Choose a new password" in client.get(path, follow=True).content.decode()
    assert jobs.run_ready() == 0  # nothing runs twice


RESET_TEMPLATES = {
    "subject_template_name": "accounts/password_reset_subject.txt",
    "email_template_name": "accounts/password_reset_email.txt",
}


def enqueue_reset_mail(user, templates=RESET_TEMPLATES):
    from kontor.accounts.jobs import mail_reset_link

    return mail_reset_link.enqueue(
        user.pk,
        language="en",
        domain="testserver",
        site_name="testserver",
        protocol="http",
        templates=templates,
    )


def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(org, database_jobs):
    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        enqueue_reset_mail(org.member_a)
        raise RolledBack()

    assert not DBTaskResult.objects.exists()
    assert jobs.run_ready() == 0 and not mail.outbox


def test_a_failing_job_is_recorded_failed_and_the_pass_goes_on(org, database_jobs):
    bad = enqueue_reset_mail(org.member_a, templates={})
    good = enqueue_reset_mail(org.member_b)

    assert jobs.run_ready() == 2

    statuses = {str(pk): status for pk, status in DBTaskResult.objects.values_list("id", "status")}
    assert statuses == {bad.id: TaskResultStatus.FAILED, good.id: TaskResultStatus.SUCCESSFUL}
    assert "KeyError" in DBTaskResult.objects.get(id=bad.id).traceback
    assert [m.to for m in mail.outbox] == [["boris@example.com"]]
