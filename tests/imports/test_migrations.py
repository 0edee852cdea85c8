"""imports 0002 moves each job's problems out of its JSON list into rows."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kontor.accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("imports", "0001_initial")]
AFTER = [("imports", "0002_resume_problems_keys")]


def migrated(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_problems_kept_as_json_become_rows():
    user = User.objects.create(email="old@example.com")
    try:
        old = migrated(BEFORE)
        job = old.get_model("imports", "ImportJob").objects.create(
            created_by_id=user.pk, object_type="contacts.person", file="imports/x.csv",
            file_name="x.csv", problems=[[3, "Email", "Bad."], [7, "", "Duplicate."]],
        )  # fmt: skip
        new = migrated(AFTER)
        rows = new.get_model("imports", "ImportProblem").objects.filter(job_id=job.pk)
        assert sorted(rows.values_list("line", "column", "message")) == [
            (3, "Email", "Bad."), (7, "", "Duplicate."),
        ]  # fmt: skip
    finally:
        migrated(MigrationExecutor(connection).loader.graph.leaf_nodes("imports"))
