import json
import re
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kontor.contacts import services
from kontor.core.models import Attachment, AuditEntry
from tests.contacts.test_api import Api


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


def person_of(user, **data):
    return services.create_person(
        {"first_name": "Pat", "last_name": user.email, **data}, actor=user
    )


# -- search ----------------------------------------------------------------------------------


def test_search_groups_visible_hits_by_type(org):
    acme = services.create_company(
        {"name": "Petrov Trading", "industry": "Steel"}, actor=org.member_a
    )
    ivan = person_of(org.member_a, first_name="Ivan", last_name="Petrov", position="Buyer")
    person_of(org.support_member, first_name="Olga", last_name="Petrova")
    body = Api(org.member_b).get("/search?q=petrov").json()
    groups = {g["type"]: g for g in body["groups"]}
    assert [h["id"] for h in groups["contacts.person"]["items"]] == [ivan.pk]
    hit = groups["contacts.person"]["items"][0]
    assert (hit["title"], hit["subtitle"]) == ("Ivan Petrov", "Buyer")
    assert groups["contacts.company"]["label"] == "Companies"
    assert [(h["id"], h["subtitle"]) for h in groups["contacts.company"]["items"]] == [
        (acme.pk, "Steel")
    ]


def test_search_finds_a_phone_typed_differently_and_respects_limit(org):
    for i in range(3):
        person_of(org.member_a, first_name=f"Caller{i}", phones=[{"number": "+7 916 123-45-67"}])
    body = Api(org.member_a).get("/search?q=8(916)1234567&limit=2").json()
    people = next(g for g in body["groups"] if g["type"] == "contacts.person")
    assert len(people["items"]) == 2
    assert Api(org.member_a).get("/search?q=x&limit=51").status_code == 422


def _matched(api, q, record):
    body = api.get("/search?" + urlencode({"q": q})).json()
    hits = {(h["type"], h["id"]): h for g in body["groups"] for h in g["items"]}
    hit = hits[record._meta.label_lower, record.pk]
    return [(m["field"], m["text"]) for m in hit["matched"]]


def test_each_hit_says_which_of_its_fields_matched(org):
    acme = services.create_company(
        {"name": "Acme Steel", "tax_id": "7701234567", "phones": [{"number": "+7 495 000-11-22"}]},
        actor=org.member_a,
    )
    ivan = person_of(
        org.member_a,
        first_name="Ivan",
        last_name="Petrov",
        company_id=acme.pk,
        phones=[{"number": "8 916 123 45 67 доб. 105"}],
        emails=[{"address": "ivan@example.com"}],
    )
    api = Api(org.member_a)

    assert _matched(api, "8 (916) 123-45-67", ivan) == [("phone", "+7 916 123-45-67 ext. 105")]
    assert _matched(api, "IVAN@example", ivan) == [("email", "ivan@example.com")]
    assert _matched(api, "petrov", ivan) == [("name", "Ivan Petrov")]
    assert _matched(api, "petrov acme", ivan) == [
        ("name", "Ivan Petrov"),
        ("company", "Acme Steel"),
    ]
    assert _matched(api, "770123", acme) == [("tax_id", "7701234567")]
    assert _matched(api, "4950001122", acme) == [("phone", "+7 495 000-11-22")]
    ru = api.get("/search?q=ivan@", **{"accept-language": "ru"}).json()["groups"][0]["items"]
    assert ru[0]["matched"] == [
        {"field": "email", "label": "эл. почта", "text": "ivan@example.com"}
    ]


def test_a_reason_never_names_a_company_the_reader_cannot_see(org, client):
    hidden = services.create_company({"name": "Zenith Holdings"}, actor=org.member_c)
    mine = person_of(org.member_a, first_name="Vera")
    services.update_person(mine, {"company_id": hidden.pk}, actor=org.admin)
    api = Api(org.member_a)

    body = api.get("/search?q=zenith").json()
    client.force_login(org.member_a)
    page = client.get(reverse("web:search"), {"q": "zenith"}).content.decode()
    suggest = client.get(reverse("web:search_suggest"), {"q": "zenith"}).content.decode()

    # Found or not (the person's search text may hold the employer's name), no hit
    # explains itself by the hidden company.
    assert not [m for g in body["groups"] for h in g["items"] for m in h["matched"]]
    assert "Zenith" not in json.dumps([g["items"] for g in body["groups"]])
    whys = re.findall(r'data-testid="search-why">([^<]*)<', page + suggest)
    assert not [w for w in whys if "Zenith" in w]
    # Its admin sees the company, and so the reason.
    assert _matched(Api(org.admin), "zenith", mine) == [("company", "Zenith Holdings")]


@pytest.mark.parametrize("q", ["612345678", "390612345678", "+39 06 1234 5678", "1234 5678"])
def test_search_finds_a_phone_by_its_national_number_and_any_part(org, q):
    # The search text holds the E.164 digits only; the national number is their end.
    rome = person_of(org.member_a, first_name="Roma", phones=[{"number": "+39 06 1234 5678"}])
    body = Api(org.member_a).get("/search?" + urlencode({"q": q})).json()
    people = next(g for g in body["groups"] if g["type"] == "contacts.person")
    assert [h["id"] for h in people["items"]] == [rome.pk]


def test_a_hits_url_is_its_types_page_and_none_for_a_type_without_pages(org):
    from kontor.contacts import services as contacts
    from kontor.core import types

    person = contacts.create_person({"first_name": "Ivan"}, actor=org.admin)
    assert types.url_of(person) == reverse("contacts:person_detail", args=[person.pk])
    assert types.url_of(org.admin) == ""  # users are audited, but have no record page


# -- audit -----------------------------------------------------------------------------------


def test_audit_of_one_visible_record(org):
    person = person_of(org.member_a)
    services.update_person(person, {"position": "Buyer"}, actor=org.member_a)
    response = Api(org.member_b).get(f"/audit?object=contacts.person:{person.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    newest = body["items"][0]
    assert newest["action"] == "contacts.person.updated"
    assert newest["actor"] == "anna@example.com"
    assert newest["changes"]["position"] == ["", "Buyer"]
    assert (newest["object_type"], newest["object_id"]) == ("contacts.person", person.pk)
    assert newest["channel"] == "system"


def test_audit_of_a_record_outside_scope_is_404(org):
    person = person_of(org.member_a)
    outsider = Api(org.support_member)
    assert outsider.get(f"/audit?object=contacts.person:{person.pk}").status_code == 404
    assert outsider.get("/audit?object=accounts.user:1").status_code == 404
    bad = outsider.get("/audit?object=nonsense")
    assert bad.status_code == 422
    assert "object" in bad.json()["errors"]


def test_audit_without_object_lists_only_visible_records(org):
    mine = person_of(org.member_a)
    theirs = person_of(org.support_member)
    company = services.create_company({"name": "Acme"}, actor=org.member_a)
    body = Api(org.member_b).get("/audit?limit=1").json()
    assert len(body["items"]) == 1
    seen = {
        (e["object_type"], e["object_id"])
        for e in Api(org.member_b).get("/audit?limit=200").json()["items"]
        if e["object_type"].startswith("contacts.")
    }
    assert seen == {("contacts.person", mine.pk), ("contacts.company", company.pk)}
    assert ("contacts.person", theirs.pk) not in seen
    assert Api(org.nobody).get("/audit").json()["count"] == 0


def test_audit_of_users_departments_and_roles_is_read_by_those_who_may_view_them(org):
    """Accounts' objects are registered types: their history is as visible as they are."""
    from kontor.accounts import services as accounts

    accounts.update_user(org.member_a, {"first_name": "Annette"}, actor=org.admin)
    role = accounts.create_role(name="Auditor", actor=org.admin)

    def seen(user) -> set:
        items = Api(user).get("/audit?limit=200").json()["items"]
        return {(e["object_type"], e["object_id"]) for e in items}

    assert ("accounts.role", role.pk) in seen(org.admin)
    # A member views users of their own department (the built-in "*" grant), not roles.
    member_view = seen(org.member_b)
    assert ("accounts.role", role.pk) not in member_view
    assert ("accounts.user", org.member_a.pk) in member_view
    assert ("accounts.user", org.support_member.pk) not in member_view
    assert Api(org.member_b).get(f"/audit?object=accounts.role:{role.pk}").status_code == 404
    assert Api(org.admin).get(f"/audit?object=accounts.role:{role.pk}").json()["count"] >= 1


# -- attachments -----------------------------------------------------------------------------


def upload(api, path, name="contract.pdf", content=b"%PDF-1.4 hello"):
    return api.client.post(
        f"/api/v1{path}",
        {"file": SimpleUploadedFile(name, content)},
        headers=api.headers,
    )


@pytest.mark.parametrize("kind", ["people", "companies"])
def test_attachment_upload_list_download_delete(org, kind):
    if kind == "people":
        record = person_of(org.member_a)
    else:
        record = services.create_company({"name": "Acme"}, actor=org.member_a)
    owner = Api(org.member_a)
    response = upload(owner, f"/{kind}/{record.pk}/attachments")
    assert response.status_code == 201, response.content
    created = response.json()
    attachment = Attachment.objects.get(pk=created["id"])
    assert (attachment.object_id, attachment.name, attachment.size) == (
        record.pk,
        "contract.pdf",
        14,
    )
    added = AuditEntry.objects.for_object(record).get(action__endswith="attachment_added")
    assert added.channel == "api"

    listed = Api(org.member_b).get(f"/{kind}/{record.pk}/attachments").json()
    assert [a["id"] for a in listed] == [attachment.pk]

    download = Api(org.member_b).get(created["download_url"].removeprefix("/api/v1"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 hello"
    assert download["Content-Disposition"].startswith("attachment;")

    outsider = Api(org.support_member)
    assert outsider.get(f"/attachments/{attachment.pk}/download").status_code == 404
    assert outsider.get(f"/{kind}/{record.pk}/attachments").status_code == 404
    assert upload(outsider, f"/{kind}/{record.pk}/attachments").status_code == 404
    assert outsider.delete(f"/attachments/{attachment.pk}").status_code == 404
    # Visible but not editable: member_b may read, not remove.
    assert Api(org.member_b).delete(f"/attachments/{attachment.pk}").status_code == 403
    assert Attachment.objects.filter(pk=attachment.pk).exists()

    assert owner.delete(f"/attachments/{attachment.pk}").status_code == 204
    assert not Attachment.objects.filter(pk=attachment.pk).exists()


def test_upload_without_a_file_is_422(org):
    person = person_of(org.member_a)
    api = Api(org.member_a)
    response = api.client.post(f"/api/v1/people/{person.pk}/attachments", {}, headers=api.headers)
    assert response.status_code == 422
    assert "file" in response.json()["errors"]
    assert not Attachment.objects.exists()


def test_upload_by_viewer_who_cannot_edit_is_403(org):
    person = person_of(org.member_a)
    response = upload(Api(org.member_b), f"/people/{person.pk}/attachments")
    assert response.status_code == 403
    assert not Attachment.objects.exists()


# -- OpenAPI ---------------------------------------------------------------------------------


def test_openapi_lists_every_path_and_docs_render(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = set(schema["paths"])
    for expected in (
        "/api/v1/people",
        "/api/v1/people/{record_id}",
        "/api/v1/people/lookup",
        "/api/v1/people/export",
        "/api/v1/people/duplicates",
        "/api/v1/people/{record_id}/attachments",
        "/api/v1/companies",
        "/api/v1/companies/{record_id}",
        "/api/v1/companies/export",
        "/api/v1/companies/duplicates",
        "/api/v1/companies/{record_id}/attachments",
        "/api/v1/search",
        "/api/v1/audit",
        "/api/v1/attachments/{attachment_id}/download",
        "/api/v1/attachments/{attachment_id}",
    ):
        assert expected in paths
    operation_ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert "PersonOut" in schema["components"]["schemas"]
    docs = Client().get("/api/v1/docs")
    assert docs.status_code == 200
    # Swagger UI comes from ninja's own static files: an intranet install works offline.
    assert "https://" not in docs.content.decode()
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_unknown_api_path_and_unparsable_body_answer_json(org):
    api = Api(org.member_a)
    for path in ("/people/abc", "/nothing-here", "/people/1/attachments/extra"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": {}}
    broken = api.client.post(
        "/api/v1/people", data="{oops", content_type="application/json", headers=api.headers
    )
    assert broken.status_code == 400
    assert broken.json()["detail"]
    not_an_object = api.client.post(
        "/api/v1/people", data="[]", content_type="application/json", headers=api.headers
    )
    assert not_an_object.status_code == 422
    assert list(not_an_object.json()["errors"]) == ["__all__"]


def every_operation():
    schema = json.loads(Client().get("/api/v1/openapi.json").content)
    for path, item in schema["paths"].items():
        for method in item:
            yield method, re.sub(r"\{[^}]+\}", "1", path)


def test_every_operation_in_openapi_refuses_anonymous_with_401(db):
    operations = list(every_operation())
    assert len(operations) >= 25
    for method, path in operations:
        response = getattr(Client(enforce_csrf_checks=True), method)(path)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json()["detail"] == "Authentication required."


def test_search_and_audit_cost_the_same_queries_for_3_or_30_records(org):
    api = Api(org.member_a)
    api.get("/search?q=zz")

    def cost(path):
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(path).status_code == 200
        return len(ctx.captured_queries)

    def make(n):
        for i in range(n):
            person_of(org.member_a, first_name=f"Zed{i}", position="Buyer")
            services.create_company({"name": f"Zed Co {i}"}, actor=org.member_a)

    make(3)
    few = cost("/search?q=zed&limit=50"), cost("/audit?limit=200")
    make(27)
    many = cost("/search?q=zed&limit=50"), cost("/audit?limit=200")
    assert few == many


def test_the_openapi_document_has_no_duplicate_keys(db):
    """Swagger UI reads the document as YAML, where a key twice (a status code declared
    by a route and added again by ninja) is a parser error and the docs page is empty."""

    def unique(pairs):
        keys = [key for key, _value in pairs]
        assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
        return dict(pairs)

    answer = Client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    json.loads(answer.content, object_pairs_hook=unique)
