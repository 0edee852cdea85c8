"""Import templates: saved by name (personal or shared), applied to a new file by its
headers whatever their order, case or spacing, in the wizard, the API and the CLI;
changed and deleted by their creator or an administrator of imports, audited."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kontor import cli
from kontor.contacts.models import Person
from kontor.core import types
from kontor.core.errors import NotFound, PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry
from kontor.imports import mapping, templates
from kontor.imports.models import ImportJob, ImportTemplate, may_manage_imports

from . import files

PEOPLE = "contacts.person"


def make(actor, name="Clients", **data):
    return templates.create(
        {"name": name, "object_type": "people", "mapping": {"Surname": "last_name",
         "Given": "first_name", "Mail": "emails", "Notes": ""}, **data},
        actor=actor,
    )  # fmt: skip


# -- applying -----------------------------------------------------------------------------------


def test_applied_by_header_whatever_its_order_case_and_spacing(org):
    available = mapping.targets(types.get(PEOPLE), org.admin)
    saved = {"Surname": "last_name", "Given": "first_name", "Notes": "", "Gone": "custom.gone"}
    headers = ["  MAIL ", "given", "Notes", "SURNAME", "Position", "Комментарий"]
    applied = mapping.apply_saved({**saved, "Mail": "emails"}, headers, available)
    # "Notes" is left out as the template says; "Position" and "Комментарий" are not in
    # it and keep their suggestions; a key no longer offered is dropped.
    assert applied == {0: "emails", 1: "first_name", 3: "last_name", 4: "position", 5: "notes"}


def test_a_target_the_template_gives_a_column_is_not_suggested_for_another(org):
    available = mapping.targets(types.get(PEOPLE), org.admin)
    applied = mapping.apply_saved({"Nom": "first_name"}, ["First name", "nom", "NOM"], available)
    assert applied == {1: "first_name"}


# -- the service ------------------------------------------------------------------------------


def test_create_is_audited_and_names_are_unique_per_owner_and_type(org):
    template = make(org.member_a, reading={"encoding": "cp1251"}, options={"on_match": "fill"})
    assert (template.object_type, template.shared, template.created_by) == (
        PEOPLE, False, org.member_a
    )  # fmt: skip
    entry = AuditEntry.objects.get(action="imports.importtemplate.created")
    assert entry.object_id == template.pk and entry.changes["name"] == [None, "Clients"]
    with pytest.raises(ValidationFailed) as raised:
        make(org.member_a, name=" clients ")
    assert raised.value.errors == {
        "name": ["You have a template of this name for these records already."]
    }
    make(org.member_b)  # another user's
    templates.create({"name": "Clients", "object_type": "companies", "mapping": {}},
                     actor=org.member_a)  # fmt: skip


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"mapping": {"A": "nonsense"}}, "mapping", "Unknown fields: nonsense."),
        ({"mapping": {"A": "first_name", "B": "first_name"}}, "mapping",
         "Each field may take one column only."),
        ({"mapping": ["first_name"]}, "mapping",
         "A mapping is a JSON object: column header -> field key."),
        ({"reading": {"password": "x"}}, "reading",
         "Only these keys, with text: encoding, delimiter, sheet."),
        ({"options": {"on_match": "merge"}}, "options", "Unknown choice: merge."),
        ({"mapping": {"A\x00": "first_name"}}, "mapping", "Null characters are not allowed."),
        ({"reading": {"sheet": "\x00"}}, "reading", "Null characters are not allowed."),
        ({"options": {"match_on": ["\x00"]}}, "options", "Null characters are not allowed."),
        ({"options": {"create_links": "yes"}}, "options",
         "Only these keys, each of its kind: match_on, on_match, create_links, day_first."),
    ],
)  # fmt: skip
def test_bad_input_is_a_field_error(org, data, field, message):
    with pytest.raises(ValidationFailed) as raised:
        make(org.member_a, **data)
    assert raised.value.errors == {field: [message]}
    assert not ImportTemplate.objects.exists()


def test_personal_shared_and_administrators(org):
    mine = make(org.member_a)
    shared = make(org.member_b, name="Shared", shared=True)
    make(org.member_b, name="Personal")
    assert set(templates.visible(org.member_a)) == {mine, shared}
    assert may_manage_imports(org.admin) and templates.visible(org.admin).count() == 3
    with pytest.raises(NotFound):
        templates.template_for(org.member_a, ImportTemplate.objects.get(name="Personal").pk)
    with pytest.raises(PermissionDenied):  # shared: seen and used, not changed
        templates.update(shared, {"name": "Mine now"}, actor=org.member_a)
    with pytest.raises(PermissionDenied):
        templates.delete(shared, actor=org.member_a)
    templates.update(shared, {"name": "Renamed", "shared": False}, actor=org.admin)
    entry = AuditEntry.objects.get(action="imports.importtemplate.updated")
    assert entry.changes == {"name": ["Shared", "Renamed"], "shared": [True, False]}
    mine_id = mine.pk
    templates.delete(mine, actor=org.admin)
    entry = AuditEntry.objects.get(action="imports.importtemplate.deleted")
    assert entry.object_id == mine_id and entry.changes["name"] == ["Clients", None]
    with pytest.raises(PermissionDenied):  # no right to import companies
        templates.create({"name": "X", "object_type": "companies", "mapping": {}},
                         actor=org.nobody)  # fmt: skip


def test_named_prefers_one_s_own_to_a_shared_one(org):
    shared = make(org.member_b, shared=True)
    assert templates.named(org.member_a, PEOPLE, "clients") == shared
    mine = make(org.member_a)
    assert templates.named(org.member_a, PEOPLE, "CLIENTS") == mine
    with pytest.raises(NotFound):
        templates.named(org.member_a, PEOPLE, "Other")


# -- the API ----------------------------------------------------------------------------------


def test_api_create_list_get_patch_delete(org, client):
    client.force_login(org.member_a)
    body = {"name": "Outlook", "type": "people", "mapping": {"E-mail Address": "emails"},
            "options": {"match_on": ["email"], "on_match": "fill"}}  # fmt: skip
    answer = client.post("/api/v1/imports/templates", body, content_type="application/json")
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert (created["object_type"], created["may_change"], created["shared"]) == (
        PEOPLE, True, False
    )  # fmt: skip
    again = client.post("/api/v1/imports/templates", body, content_type="application/json")
    assert again.status_code == 422 and "name" in again.json()["errors"]
    url = f"/api/v1/imports/templates/{created['id']}"
    assert client.get(url).json()["mapping"] == {"E-mail Address": "emails"}
    patched = client.patch(url, {"shared": True}, content_type="application/json").json()
    assert (patched["name"], patched["shared"]) == ("Outlook", True)
    assert [t["name"] for t in client.get("/api/v1/imports/templates?type=people").json()] == [
        "Outlook"
    ]
    assert client.get("/api/v1/imports/templates?type=companies").json() == []
    client.force_login(org.member_b)  # shared: seen, not changed
    assert client.get(url).json()["may_change"] is False
    assert client.delete(url).status_code == 403
    client.force_login(org.member_a)
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_api_preview_and_import_with_a_template(org, client, django_capture_on_commit_callbacks):
    client.force_login(org.member_a)
    template = make(org.member_a, reading={"delimiter": ";"}, options={"on_match": "overwrite",
                    "match_on": ["email"]})  # fmt: skip
    data = files.csv_bytes(
        ["mail", "GIVEN", "surname", "Notes"],
        [["a@example.com", "Ann", "Lee", "left out"]],
        delimiter=";",
    )
    answer = client.post(
        "/api/v1/imports/preview",
        {"file": SimpleUploadedFile("a.csv", data), "type": "people", "template": template.pk},
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["mapping"] == {"mail": "emails", "GIVEN": "first_name",
                                        "surname": "last_name"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/api/v1/imports",
            {"file": SimpleUploadedFile("a.csv", data), "type": "people",
             "template": template.pk, "on_match": "skip"},
        )  # fmt: skip
    assert answer.status_code == 201, answer.content
    other = make(org.member_b, name="Not shared")
    refused = client.post(
        "/api/v1/imports/preview",
        {"file": SimpleUploadedFile("a.csv", data), "type": "people", "template": other.pk},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"template": ["Unknown import template."]}
    job = ImportJob.objects.get()
    # The options sent win over the template's; the others are the template's.
    assert job.options == {"match_on": ["email"], "on_match": "skip", "create_links": True,
                           "day_first": True}  # fmt: skip
    assert job.reading["delimiter"] == ";"
    ann = Person.objects.get()
    assert (ann.first_name, ann.last_name, ann.notes) == ("Ann", "Lee", "")


def selected(page: str) -> list[str]:
    """Each column's chosen field on the mapping page, in column order."""
    selects = re.findall(r'<select id="column_\d+".*?</select>', page, re.S)
    return [(re.findall(r'<option value="([^"]*)" selected>', s) or [""])[0] for s in selects]


# -- the wizard -------------------------------------------------------------------------------


def test_wizard_saves_and_applies_templates(org, client):
    client.force_login(org.member_a)
    data = files.csv_bytes(["Given", "Surname", "Mail"], [["Ann", "Lee", "a@example.com"]])
    client.post("/imports/", {"file": SimpleUploadedFile("a.csv", data), "type": PEOPLE})
    job = ImportJob.objects.get()
    form = {"column_0": "first_name", "column_1": "last_name", "column_2": "", "day_first": "on",
            "on_match": "fill"}  # fmt: skip
    page = client.post(
        f"/imports/{job.pk}/",
        {**form, "action": "save_template", "template_name": "Short", "template_shared": "on"},
        follow=True,
    ).content.decode()
    assert "Template saved: Short." in page
    blank = {**form, "action": "save_template", "template_name": " "}
    page = client.post(f"/imports/{job.pk}/", blank).content.decode()
    assert "This field is required." in page and ImportTemplate.objects.count() == 1
    template = ImportTemplate.objects.get()
    assert template.shared and template.mapping == {
        "Given": "first_name", "Surname": "last_name", "Mail": ""}  # fmt: skip
    assert template.options["on_match"] == "fill"
    # Saved again under its name: the same template, updated.
    again = {**form, "column_2": "emails", "action": "save_template", "template_name": "Short"}
    client.post(f"/imports/{job.pk}/", again)
    template.refresh_from_db()
    assert ImportTemplate.objects.count() == 1 and template.mapping["Mail"] == "emails"

    client.force_login(org.member_b)
    other = files.csv_bytes(["MAIL", "surname", "given", "Position"], [["b@x.com", "B", "C", "D"]])
    client.post("/imports/", {"file": SimpleUploadedFile("b.csv", other), "type": PEOPLE})
    job = ImportJob.objects.get(created_by=org.member_b)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert f'<option value="{template.pk}">Short (shared)</option>' in page
    page = client.post(
        f"/imports/{job.pk}/", {"action": "apply_template", "template": template.pk}
    ).content.decode()
    assert selected(page) == ["emails", "last_name", "first_name", "position"]
    assert '<option value="fill" selected>' in page
    answer = client.post(f"/imports/{job.pk}/", {"action": "apply_template", "template": "x"})
    assert "Not found." in answer.content.decode()


def test_templates_page_renames_and_deletes_one_s_own(org, client):
    own = make(org.member_a)
    shared = make(org.member_b, name="Theirs", shared=True)
    client.force_login(org.member_a)
    page = client.get("/imports/templates/").content.decode()
    assert f'name="template" value="{own.pk}"' in page
    assert f'name="template" value="{shared.pk}"' not in page and "Theirs (shared)" in page
    answer = client.post(
        "/imports/templates/", {"template": own.pk, "name": "Renamed", "shared": "on"}, follow=True
    )
    assert "Template saved: Renamed." in answer.content.decode()
    own.refresh_from_db()
    assert (own.name, own.shared) == ("Renamed", True)
    answer = client.post("/imports/templates/", {"template": shared.pk, "action": "delete"})
    assert answer.status_code == 302 and ImportTemplate.objects.filter(pk=shared.pk).exists()
    client.post("/imports/templates/", {"template": own.pk, "action": "delete"})
    assert not ImportTemplate.objects.filter(pk=own.pk).exists()
    client.force_login(org.nobody)
    assert client.get("/imports/templates/").status_code == 403


# -- the CLI ----------------------------------------------------------------------------------


def test_cli_saves_a_template_and_applies_it_to_the_next_file(org, tmp_path, capsys):
    first = tmp_path / "first.csv"
    first.write_bytes(files.russian_csv())
    args = ("--type", "people", "--user", org.admin.email)
    assert cli.main(["import", str(first), *args, "--dry-run", "--match", "email",
                     "--save-template", "Russian"]) == 0  # fmt: skip
    assert "Template saved: Russian." in capsys.readouterr().out
    template = ImportTemplate.objects.get()
    assert template.mapping["Эл. почта"] == "emails" and template.options["match_on"] == ["email"]
    assert template.reading == {"encoding": "", "delimiter": "", "sheet": ""}
    # The next file: the same columns in another order, other case; no Russian words to
    # suggest from ("ФАМИЛИЯ" would be suggested anyway, "Эл.  почта" not in this form).
    text = files.russian_csv().decode("cp1251").splitlines()
    rows = [line.split(";") for line in text]
    order = [7, 1, 0]
    headers = ["ЭЛ.  ПОЧТА", "имя", "фамилия"]
    second = tmp_path / "second.csv"
    second.write_bytes(files.csv_bytes(headers, [[r[i] for i in order] for r in rows[1:]]))
    assert cli.main(["import", str(second), *args, "--template", "russian"]) == 0
    assert Person.objects.count() == 3
    assert Person.objects.filter(emails__isnull=False).count() == 3
    capsys.readouterr()
    # Matched on email, as the template says: all three are there already.
    assert cli.main(["import", str(second), *args, "--template", "Russian"]) == 0
    assert capsys.readouterr().out.splitlines()[1].endswith("0 new, 0 updated, 3 skipped, "
                                                            "0 with errors")  # fmt: skip
    assert cli.main(["import", str(second), *args, "--template", "Nope"]) == 2
    assert "There is no import template named Nope." in capsys.readouterr().err


def test_upload_with_a_template_brings_its_type_reading_mapping_and_options(org, client):
    template = make(org.member_a, reading={"delimiter": ";"},
                    options={"on_match": "overwrite", "match_on": ["email"]})  # fmt: skip
    client.force_login(org.member_a)
    page = client.get("/imports/").content.decode()
    assert f'<option value="{template.pk}">Clients: people</option>' in page
    data = files.csv_bytes(["GIVEN", "mail", "Position"], [["Ann", "a@x.com", "CEO"]],
                           delimiter=";")  # fmt: skip
    answer = client.post(
        "/imports/",
        {"file": SimpleUploadedFile("a.csv", data), "type": "contacts.company",
         "template": template.pk},
    )  # fmt: skip
    job = ImportJob.objects.get()
    assert answer["Location"] == f"/imports/{job.pk}/?template={template.pk}"
    assert (job.object_type, job.reading["delimiter"]) == (PEOPLE, ";")
    assert job.mapping == {"GIVEN": "first_name", "mail": "emails", "Position": "position"}
    page = client.get(answer["Location"]).content.decode()
    assert selected(page) == ["first_name", "emails", "position"]
    assert '<option value="overwrite" selected>' in page
    assert 'name="match_on" value="email" checked' in page
