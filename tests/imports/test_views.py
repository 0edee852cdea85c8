"""The wizard's pages: upload, mapping with preview, progress, result, errors, undo."""

from django.core.files.uploadedfile import SimpleUploadedFile

from kontor.contacts.models import Person
from kontor.imports.models import ImportJob

from . import files


def upload(client, data=None, **fields):
    data = data or files.russian_csv() + "Пустов;Пётр;;;;;;нет почты;;;\r\n".encode("cp1251")
    return client.post(
        "/imports/",
        {"file": SimpleUploadedFile("clients.csv", data), "type": "contacts.person", **fields},
    )


def mapping_form(answer) -> dict:
    """The mapping form as the page fills it."""
    job = ImportJob.objects.get()
    headers = ["Фамилия", "Имя", "Отчество", "Должность", "Компания", "ИНН", "Телефон",
               "Эл. почта", "Город", "Дата рождения", "Примечание"]  # fmt: skip
    form = {f"column_{i}": job.mapping.get(h, "") for i, h in enumerate(headers)}
    return {**form, "create_links": "on", "day_first": "on"}


def test_upload_map_preview_import_and_undo(org, client, django_capture_on_commit_callbacks):
    client.force_login(org.sales_head)
    assert "Import" in client.get("/").content.decode()  # in the menu
    answer = upload(client)
    job = ImportJob.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/imports/{job.pk}/"
    assert (job.state, job.total_rows) == ("draft", 4)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert '<option value="emails" selected>' in page and "4 rows, into people" in page
    form = mapping_form(page)
    preview = client.post(f"/imports/{job.pk}/", {**form, "action": "preview"}).content.decode()
    assert "Preview: nothing has been written" in preview
    assert "“нет почты” is not a valid email." in preview
    assert not Person.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/imports/{job.pk}/", {**form, "action": "run"})
    assert answer.status_code == 302
    result = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="import-state">done<' in result
    assert Person.objects.count() == 3
    errors = client.get(f"/imports/{job.pk}/errors/").content.decode("utf-8-sig")
    assert errors.splitlines()[1].startswith("Пустов;") or errors.splitlines()[1].startswith(
        "Пустов,"
    )
    assert "Undo this import" in result
    client.post(f"/imports/{job.pk}/undo/")
    assert not Person.objects.exists()
    assert "Past imports" in client.get("/imports/").content.decode()


def test_progress_is_polled_while_running(org, client):
    client.force_login(org.admin)
    upload(client)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state="running", rows=2)
    part = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in part and '<progress max="4" value="2">' in part
    ImportJob.objects.filter(pk=job.pk).update(state="done")
    answer = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"})
    assert answer["HX-Refresh"] == "true"


def test_unreadable_file_and_other_peoples_imports(org, client):
    client.force_login(org.member_a)
    page = upload(client, b"\x00\x01\x02").content.decode()
    assert "This is not a spreadsheet" in page and not ImportJob.objects.exists()
    upload(client)
    job = ImportJob.objects.get()
    client.force_login(org.member_b)
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.get(f"/imports/{job.pk}/errors/").status_code == 404
    client.force_login(org.nobody)
    assert client.get("/imports/").status_code == 403
    assert "Import" not in client.get("/").content.decode().split("<main")[0]


def test_the_wizard_in_russian_and_french(org, client):
    client.force_login(org.admin)
    upload(client)
    job = ImportJob.objects.get()
    client.cookies["django_language"] = "ru"
    assert "Импорт из таблицы" in client.get("/imports/").content.decode()
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "4 строки →" in page
    assert "(не импортировать)" in page and "Эл. почта" in page
    client.cookies["django_language"] = "fr"
    assert (
        "Associer les colonnes de clients.csv" in client.get(f"/imports/{job.pk}/").content.decode()
    )
