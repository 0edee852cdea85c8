"""/api/v1/imports: preview, start, poll, error rows, undo; only one's own imports."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from kontor.contacts.models import Person

from . import files


def csv_file():
    data = files.russian_csv() + "Пустов;Пётр;;;;;;нет почты;;;\r\n".encode("cp1251")
    return SimpleUploadedFile("clients.csv", data)


def test_preview_suggests_and_writes_nothing(org, client):
    client.force_login(org.member_a)
    answer = client.post(
        "/api/v1/imports/preview", {"file": csv_file(), "type": "people", "match_on": "email"}
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["encoding"], body["delimiter"]) == ("cp1251", ";")
    assert body["mapping"]["Эл. почта"] == "emails"
    assert {"key": "phones:mobile", "label": "Phone (mobile)"} in body["targets"]
    assert body["match_keys"][:2] == ["email", "phone"]
    assert body["counts"] == {"rows": 4, "created": 3, "updated": 0, "skipped": 0, "failed": 1,
                              "linked_created": 2}  # fmt: skip
    assert body["problems"] == [
        {"line": 5, "column": "Эл. почта", "message": "“нет почты” is not a valid email."}
    ]
    assert not Person.objects.exists()


def test_import_poll_errors_and_undo(org, client, django_capture_on_commit_callbacks):
    client.force_login(org.sales_head)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/api/v1/imports",
            {"file": csv_file(), "type": "person", "mapping": json.dumps(
                {"Имя": "first_name", "Фамилия": "last_name", "Эл. почта": "emails"})},
        )  # fmt: skip
    assert answer.status_code == 201, answer.content
    job_id = answer.json()["id"]
    job = client.get(f"/api/v1/imports/{job_id}").json()
    assert (job["state"], job["counts"]["created"], job["counts"]["failed"]) == ("done", 3, 1)
    assert job["may_undo"] and job["mapping"] == {
        "Фамилия": "last_name", "Имя": "first_name", "Эл. почта": "emails"}  # fmt: skip
    errors = client.get(f"/api/v1/imports/{job_id}/errors")
    lines = errors.content.decode("utf-8-sig").splitlines()
    assert lines[0].endswith(",Error") and lines[1].startswith("Пустов,Пётр,")
    assert lines[1].endswith("Эл. почта: “нет почты” is not a valid email.")
    assert [j["id"] for j in client.get("/api/v1/imports").json()] == [job_id]
    # Another member sees neither the import nor its errors.
    client.force_login(org.member_b)
    assert client.get(f"/api/v1/imports/{job_id}").status_code == 404
    assert client.get(f"/api/v1/imports/{job_id}/errors").status_code == 404
    assert client.post(f"/api/v1/imports/{job_id}/undo").status_code == 404
    client.force_login(org.sales_head)
    undone = client.post(f"/api/v1/imports/{job_id}/undo")
    assert undone.json() == {"deleted": 3, "restored": 0, "gone": 0, "left": 0}
    assert not Person.objects.exists()
    assert client.get(f"/api/v1/imports/{job_id}").json()["state"] == "undone"


def test_bad_input_is_a_422_with_its_reason(org, client):
    client.force_login(org.admin)
    garbage = SimpleUploadedFile("x.csv", b"\x00\x01\x02")
    answer = client.post("/api/v1/imports/preview", {"file": garbage, "type": "people"})
    assert answer.status_code == 422 and "not a spreadsheet" in answer.content.decode()
    answer = client.post("/api/v1/imports", {"file": csv_file(), "type": "people",
                                             "mapping": "{not json"})  # fmt: skip
    assert answer.status_code == 422
    answer = client.post("/api/v1/imports", {"file": csv_file(), "type": "nothing"})
    assert answer.status_code == 422 and "Unknown record type" in answer.content.decode()
    client.force_login(org.nobody)
    answer = client.post("/api/v1/imports", {"file": csv_file(), "type": "people"})
    assert answer.status_code == 403
