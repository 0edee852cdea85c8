"""Every bad input is a 4xx with field errors (API) or an inline message / ignored filter (UI).

Each case once answered 500: integers beyond 64 bits, NUL characters, unpaired
surrogates, over-long upload names, unknown query parameters, over-long child rows,
unbounded lists and tags. Run on SQLite and PostgreSQL alike (scripts/test).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kontor.contacts import services
from kontor.contacts.models import Person, Tag
from kontor.core import files
from kontor.core.errors import ValidationFailed
from tests.contacts.test_api import Api
from tests.core.test_api_routes import media_in_tmp, upload  # noqa: F401 (autouse: files in tmp)

BEYOND_64_BITS = "9223372036854775808"  # 2**63
HUGE = 10**30


def errors_of(response, status=422) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    return body["errors"]


@pytest.mark.parametrize(
    "path, field",
    [
        (f"/people?offset={BEYOND_64_BITS}", "offset"),
        (f"/companies?offset={BEYOND_64_BITS}", "offset"),
        (f"/users?offset={BEYOND_64_BITS}", "offset"),
        (f"/roles?offset={BEYOND_64_BITS}", "offset"),
        (f"/departments?offset={BEYOND_64_BITS}", "offset"),
        (f"/audit?offset={BEYOND_64_BITS}", "offset"),
        (f"/people?owner_id={BEYOND_64_BITS}", "owner_id"),
        (f"/people?company_id={BEYOND_64_BITS}", "company_id"),
        (f"/companies?department_id={BEYOND_64_BITS}", "department_id"),
        (f"/users?department_id={BEYOND_64_BITS}", "department_id"),
        ("/people?owner_id=1e30", "owner_id"),
        (f"/people/1?version={BEYOND_64_BITS}", "version"),
    ],
)
def test_integers_beyond_64_bits_in_the_query_are_field_errors(org, path, field):
    method = "delete" if "version" in path else "get"
    assert field in errors_of(getattr(Api(org.admin), method)(path))


@pytest.mark.parametrize("path", [f"/people/{BEYOND_64_BITS}", f"/users/{HUGE}"])
def test_ids_beyond_64_bits_in_the_path_are_not_found(org, path):
    errors_of(Api(org.admin).get(path), status=404)


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/people", {"first_name": "A", "owner_id": 1e30}, "owner_id"),
        ("/people", {"first_name": "A", "company_id": HUGE}, "company_id"),
        ("/people", {"first_name": "A", "department_id": -HUGE}, "department_id"),
        ("/people/duplicates", {"exclude_id": HUGE}, "exclude_id"),
        ("/users", {"email": "x@example.com", "role_ids": [1, HUGE]}, "role_ids.1"),
        ("/departments", {"name": "X", "parent_id": HUGE}, "parent_id"),
        ("/people", {"first_name": "A", "owner_id": True}, "owner_id"),
        ("/people", {"first_name": "A", "birthday": 0}, "birthday"),
        ("/users", {"email": "x@example.com", "is_superuser": 1}, "is_superuser"),
    ],
)
def test_numbers_out_of_range_or_of_the_wrong_json_type_are_field_errors(org, path, body, field):
    assert field in errors_of(Api(org.admin).post(path, body))


def test_a_json_body_that_is_not_an_object_is_422(org):
    assert "__all__" in errors_of(Api(org.admin).post("/tokens", [None, None]))
    assert not org.admin.api_tokens.filter(name="").exists()


@pytest.mark.parametrize(
    "path", ["/people", "/companies", "/users", "/audit", "/tokens", "/search"]
)
def test_unknown_query_parameters_are_422_on_every_list(org, path):
    errors = errors_of(Api(org.admin).get(f"{path}?colour=red"))
    assert errors == {"colour": ["Unknown parameter."]}


def test_unknown_query_parameter_after_authentication(db):
    # An anonymous caller learns nothing else first: 401 on every route, as always.
    errors_of(Api().get("/people?colour=red"), status=401)


@pytest.mark.parametrize("path", ["/people?q=ab%00cd", "/search?q=abc%00def", "/users?q=%00"])
def test_nul_in_a_query_is_a_field_error(org, path):
    assert "q" in errors_of(Api(org.admin).get(path))


def test_nul_in_the_search_box_of_the_ui_searches_as_a_space(client, org):
    services.create_person({"first_name": "Abcdef"}, actor=org.admin)
    client.force_login(org.admin)
    for url in ("/people/?q=abc%00def", "/search/?q=abc%00def", "/companies/?q=ab%00"):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"first_name": "A\x00B"}, "first_name"),
        ({"first_name": "A\ud800x"}, "first_name"),
        ({"first_name": "A", "tags": ["x\ud800"]}, "tags.0"),
        ({"first_name": "A", "addresses": [{"city": "Bad\x00city"}]}, "addresses.0.city"),
        ({"first_name": "A", "emails": [{"address": "a\ud800@example.com"}]}, "emails.0.address"),
    ],
)
def test_text_no_database_can_store_is_a_field_error(org, body, field):
    assert field in errors_of(Api(org.admin).post("/people", body))
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"first_name": "A\x00"}, "first_name"),
        ({"first_name": "A", "family": [{"name": "B\x00"}]}, "family.0.name"),
    ],
)
def test_the_service_refuses_nul_for_the_ui_too(org, data, field):
    with pytest.raises(ValidationFailed) as refused:
        services.create_person(data, actor=org.admin)
    assert set(refused.value.errors) == {field}


def test_ui_form_with_nul_shows_the_inline_message(client, org):
    client.force_login(org.admin)
    response = client.post(
        reverse("contacts:person_create"), {"first_name": "Olga\x00", "last_name": "P"}
    )
    assert response.status_code == 422
    assert "Null characters are not allowed." in response.content.decode()
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        f"/people/?owner_id={BEYOND_64_BITS}",
        f"/people/?company_id={HUGE}",
        f"/companies/?department_id={HUGE}",
        f"/people/{BEYOND_64_BITS}/",
        "/people/?owner_id=%C2%B2",  # "²" is a digit to str.isdigit, not to int()
    ],
)
def test_ui_ignores_or_does_not_find_ids_beyond_64_bits(client, org, url):
    client.force_login(org.admin)
    assert client.get(url).status_code in (200, 404)


def test_ui_form_with_an_id_beyond_64_bits_is_an_inline_error(client, org):
    client.force_login(org.admin)
    response = client.post(
        reverse("contacts:person_create"), {"first_name": "Olga", "owner_id": BEYOND_64_BITS}
    )
    assert response.status_code == 422
    assert "Choose from the list." in response.content.decode()
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    "child, field",
    [
        ({"addresses": [{"city": "x" * 101}]}, "addresses.0.city"),
        ({"addresses": [{"street": "s", "postal_code": "9" * 21}]}, "addresses.0.postal_code"),
        ({"family": [{"name": "x" * 151}]}, "family.0.name"),
        ({"family": [{"name": "Ann", "relation": "x" * 51}]}, "family.0.relation"),
        (
            {"important_dates": [{"label": "x" * 101, "date": "2020-01-01"}]},
            "important_dates.0.label",
        ),
    ],
)
def test_child_rows_are_validated_like_the_record(org, child, field):
    errors = errors_of(Api(org.admin).post("/people", {"first_name": "A", **child}))
    assert field in errors and "at most" in errors[field][0]


@pytest.mark.parametrize("name", ["phones", "emails", "addresses", "family", "important_dates"])
def test_lists_in_a_record_are_capped(org, name):
    row = {
        "phones": {"number": "+7 916 123-45-67"},
        "emails": {"address": "a@example.com"},
        "addresses": {"city": "Riga"},
        "family": {"name": "Ann"},
        "important_dates": {"label": "Day", "date": "2020-01-01"},
    }[name]
    body = {"first_name": "A", name: [row] * (services.MAX_LIST_ROWS + 1)}
    assert errors_of(Api(org.admin).post("/people", body)) == {name: ["At most 50 entries."]}
    body[name] = [row] * services.MAX_LIST_ROWS
    assert Api(org.admin).post("/people", body).status_code == 201


def test_tags_are_bounded_in_length_per_write_and_in_all(org, monkeypatch):
    api = Api(org.member_a)
    assert "tags.0" in errors_of(api.post("/people", {"first_name": "A", "tags": ["x" * 61]}))
    many = [f"tag {i}" for i in range(services.MAX_NEW_TAGS_PER_WRITE + 1)]
    assert "tags" in errors_of(api.post("/people", {"first_name": "A", "tags": many}))
    assert not Tag.objects.exists()
    assert api.post("/people", {"first_name": "A", "tags": many[:-1]}).status_code == 201
    # Existing tags never count: only new ones are bounded.
    assert api.post("/people", {"first_name": "B", "tags": many[:-1]}).status_code == 201
    monkeypatch.setattr(services, "MAX_TAGS", Tag.objects.count())
    assert "tags" in errors_of(api.post("/people", {"first_name": "C", "tags": ["new"]}))
    assert api.post("/people", {"first_name": "C", "tags": many[:2]}).status_code == 201


def test_an_upload_name_too_long_for_the_file_system_is_kept_readable(org):
    person = services.create_person({"first_name": "A"}, actor=org.admin)
    name = "ф" * 255 + ".pdf"
    response = upload(Api(org.admin), f"/people/{person.pk}/attachments", name=name)
    assert response.status_code == 201, response.content
    attachment = files.attachments_of(person).get()
    stored = attachment.file.name.rsplit("/", 1)[-1]
    assert len(stored.encode()) <= files.MAX_STORED_NAME_BYTES
    assert stored.startswith("ффф") and stored.endswith(".pdf")
    # The name shown keeps its length (cut to 255 letters, extension kept, by Django).
    assert len(attachment.name) == 255 and attachment.name.endswith(".pdf")


def test_stored_name_keeps_whole_letters_and_the_extension():
    assert files.stored_name("offer.txt") == "offer.txt"
    cut = files.stored_name("ж" * 300 + ".docx")
    assert cut == "ж" * 97 + ".docx" and len(cut.encode()) <= files.MAX_STORED_NAME_BYTES
    assert len(files.stored_name("я" * 300).encode()) == files.MAX_STORED_NAME_BYTES


def test_ui_upload_with_a_long_name_works(client, org):
    person = services.create_person({"first_name": "A"}, actor=org.admin)
    client.force_login(org.admin)
    response = client.post(
        reverse("contacts:person_documents", args=[person.pk]),
        {"file": SimpleUploadedFile("ф" * 250 + ".txt", b"x")},
    )
    assert response.status_code == 302
    assert files.attachments_of(person).exists()


def test_settings_ui_with_ids_beyond_64_bits_answers_4xx_or_ignores_them(client, org):
    client.force_login(org.admin)
    assert client.get(f"/settings/users/?department={BEYOND_64_BITS}").status_code == 200
    assert client.get(f"/settings/users/{BEYOND_64_BITS}/").status_code == 404
    response = client.post(
        reverse("accounts:user_create"),
        {"email": "new@example.com", "roles": [BEYOND_64_BITS], "department": BEYOND_64_BITS},
    )
    assert response.status_code == 422
    assert not org.admin.__class__.objects.filter(email="new@example.com").exists()
