"""Every export is recorded and audited; a big one runs in the background with its
progress, and its file goes only to the one who asked; people also export as vCard 4.0."""

import csv
import io

import pytest
import vobject

from kontor.contacts import services
from kontor.core import exports
from kontor.core.models import AuditEntry, ExportJob

from ..utils.clients import Api, browser

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_people(org):
    acme = services.create_company({"name": "Acme"}, actor=org.admin)
    made = []
    for index in range(7):
        made.append(
            services.create_person(
                {
                    "first_name": f"Olga{index}",
                    "last_name": "Иванова",
                    "company_id": acme.pk,
                    "position": "Buyer",
                    "birthday": "1980-03-05",
                    "phones": [{"number": f"+7 916 123-45-6{index}", "kind": "mobile"}],
                    "emails": [{"address": f"olga{index}@example.com"}],
                    "tags": ["VIP"],
                },
                actor=org.admin,
            )
        )
    return made


def test_a_small_export_streams_at_once_and_is_audited(org, staff_people):
    answer = Api(org.admin).get("/people/export?format=csv&q=Olga")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 8
    job = ExportJob.objects.get()
    assert (job.state, job.total, job.format, job.user) == ("done", 7, "csv", org.admin)
    entry = AuditEntry.objects.get(action="core.exportjob.created")
    assert entry.object_id == job.pk and entry.actor == org.admin
    assert entry.changes["rows"] == [None, 7] and entry.changes["filters"][1]["q"] == "Olga"


def test_a_big_export_runs_in_the_background_with_progress(
    org, staff_people, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "INLINE_ROWS", 3)
    monkeypatch.setattr(exports, "CHUNK_ROWS", 2)
    counted = []
    chunks = exports._chunks

    def spied(queryset, progress=None):
        return chunks(queryset, lambda done: (counted.append(done), progress(done)))

    monkeypatch.setattr(exports, "_chunks", spied)
    api = Api(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.get("/people/export?format=xlsx")
    assert answer.status_code == 202, answer.content
    assert answer.json()["state"] == "queued"
    job_id = answer.json()["id"]
    assert counted == [2, 4, 6, 7]
    # Tests run jobs when they are enqueued: it is done, its progress counted per chunk.
    status = api.get(f"/exports/{job_id}").json()
    assert status["state"] == "done" and status["total"] == status["done"] == 7
    assert status["file_url"] == f"/api/v1/exports/{job_id}/file"
    assert api.get(status["file_url"].removeprefix("/api/v1")).status_code == 200
    # Only its owner reaches it.
    assert Api(org.sales_head).get(f"/exports/{job_id}").status_code == 404
    assert Api(org.sales_head).get(f"/exports/{job_id}/file").status_code == 404


def test_the_browser_goes_to_the_jobs_page_and_downloads_from_it(
    org, staff_people, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "INLINE_ROWS", 3)
    client = browser(org.admin)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.get("/api/v1/people/export?format=csv", HTTP_ACCEPT="text/html")
    job = ExportJob.objects.get()
    assert answer.status_code == 302 and answer.url == f"/exports/{job.pk}/"
    page = client.get(answer.url).content.decode()
    assert "7 rows are ready." in page and f"/exports/{job.pk}/file/" in page
    file = client.get(f"/exports/{job.pk}/file/")
    text = b"".join(file.streaming_content).decode("utf-8-sig")
    assert text.count("\n") == 8
    assert browser(org.member_a).get(f"/exports/{job.pk}/").status_code == 404


def test_a_user_who_lost_export_rights_gets_a_failed_job(org, staff_people, monkeypatch):
    monkeypatch.setattr(exports, "INLINE_ROWS", 3)
    assert Api(org.admin).get("/people/export?format=csv").status_code == 202
    job = ExportJob.objects.get()
    monkeypatch.setattr(exports, "may", lambda *args: False)
    exports.run_export.call(job.pk)
    job.refresh_from_db()
    assert job.state == "failed" and not job.file


def test_people_export_as_vcard_4(org, staff_people):
    answer = Api(org.admin).get("/people/export?format=vcf&q=Olga1")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/vcard")
    cards = list(vobject.readComponents(b"".join(answer.streaming_content).decode()))
    assert len(cards) == 1
    card = cards[0]
    assert card.version.value == "4.0" and card.fn.value == "Olga1 Иванова"
    assert card.n.value.family == "Иванова" and card.org.value == ["Acme"]
    assert card.tel.value == "tel:+79161234561" and card.email.value == "olga1@example.com"
    assert card.bday.value == "19800305" and card.categories.value == ["VIP"]
    # Companies have no vCard: the format is refused with the field's message.
    refused = Api(org.admin).get("/companies/export?format=vcf")
    assert refused.status_code == 422 and "format" in refused.json()["errors"]
