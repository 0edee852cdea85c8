"""Custom object types: defined in the browser, served by the engine like built-in types."""

import pytest
from django.urls import reverse

from kontor.accounts.queries import object_types
from kontor.core import types
from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry, SearchDocument
from kontor.objects import services
from kontor.objects.models import CustomRecord, ObjectTypeDefinition


@pytest.fixture
def site_type(define_type):
    return define_type("construction_site", "construction site", "construction sites", icon="🏗")


def test_a_defined_type_is_registered_grantable_and_in_the_menu(client, org, site_type):
    assert (
        site_type is not None and site_type.model._meta.label_lower == "objects.construction_site"
    )
    assert "objects.construction_site" in object_types()
    client.force_login(org.admin)
    home = client.get(reverse("web:home")).content.decode()
    assert "/objects/construction_site/" in home and "construction sites" in home


def test_records_of_a_custom_type_are_created_scoped_audited_and_searchable(client, org, site_type):
    site = site_type.create({"name": "Riverside tower"}, actor=org.member_a)
    assert isinstance(site, CustomRecord) and site.definition.slug == "construction_site"
    assert AuditEntry.objects.filter(
        object_type="objects.construction_site",
        object_id=site.pk,
        action="objects.construction_site.created",
    ).exists()
    assert SearchDocument.objects.filter(
        object_type="objects.construction_site", object_id=site.pk
    ).exists()

    client.force_login(org.member_b)  # same department
    assert client.get(site_type.url("detail", site.pk)).status_code == 200
    listing = client.get(site_type.url("list")).content.decode()
    assert "Riverside tower" in listing
    found = client.get(reverse("web:search"), {"q": "riverside"}).content.decode()
    assert site_type.url("detail", site.pk) in found

    client.force_login(org.support_member)  # another department: the record does not exist
    assert client.get(site_type.url("detail", site.pk)).status_code == 404
    assert "Riverside tower" not in client.get(site_type.url("list")).content.decode()
    assert (
        site_type.url("detail", site.pk)
        not in client.get(reverse("web:search"), {"q": "riverside"}).content.decode()
    )


def test_records_are_created_and_edited_through_the_generic_pages(client, org, site_type):
    client.force_login(org.member_a)
    bad = client.post(site_type.url("create"), {"name": "  ", "notes": "kept"})
    assert bad.status_code == 422 and "kept" in bad.content.decode()
    response = client.post(site_type.url("create"), {"name": "Depot", "notes": "North gate"})
    assert response.status_code == 302
    site = CustomRecord.objects.get(name="Depot")
    edit = client.post(site_type.url("edit", site.pk), {"name": "Depot 2", "version": site.version})
    assert edit.status_code == 302
    site.refresh_from_db()
    assert site.name == "Depot 2" and site.notes == "North gate"
    history = client.get(site_type.url("tab", site.pk, "history")).content.decode()
    assert "Depot 2" in history


def test_unknown_or_archived_types_are_404(client, org, site_type):
    client.force_login(org.admin)
    assert client.get("/objects/no_such_type/").status_code == 404
    site = site_type.create({"name": "Old yard"}, actor=org.admin)
    definition = ObjectTypeDefinition.objects.get(slug="construction_site")
    with pytest.raises(ValidationFailed):
        services.delete_definition(definition, actor=org.admin)
    assert services.delete_definition(definition, actor=org.admin, archive=True) == "archived"
    assert types.get("objects.construction_site") is None
    assert client.get(f"/objects/construction_site/{site.pk}/").status_code == 404
    assert CustomRecord.objects.filter(pk=site.pk).exists()  # nothing lost


def test_only_an_administrator_defines_types(client, org, define_type):
    with pytest.raises(PermissionDenied):
        services.create_definition(
            {"slug": "vehicle", "singular": "vehicle", "plural": "vehicles"}, actor=org.member_a
        )
    client.force_login(org.member_a)
    assert client.get(reverse("objects:definition_list")).status_code == 404
    assert client.get(reverse("objects:definition_create")).status_code == 404


def test_the_admin_pages_keep_input_and_explain_errors(client, org, define_type):
    client.force_login(org.admin)
    page = client.post(
        reverse("objects:definition_create"),
        {"singular": "Vehicle", "plural": "Vehicles", "slug": "Bad Name!", "icon": "🚚"},
    )
    assert page.status_code == 422
    html = page.content.decode()
    assert "Vehicles" in html and "lowercase" in html
    ok = client.post(
        reverse("objects:definition_create"),
        {"singular": "Vehicle", "plural": "Vehicles", "slug": "vehicle", "icon": "🚚"},
    )
    assert ok.status_code == 302
    assert types.get("objects.vehicle") is not None
    listing = client.get(reverse("objects:definition_list")).content.decode()
    assert "vehicle" in listing


def test_the_api_serves_a_custom_type_like_a_built_in_one(org, site_type):
    from tests.contacts.test_api import Api

    member = Api(org.member_a)
    created = member.post("/objects/construction_site", {"name": "Harbour pier"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["type"] == "construction_site" and body["owner"]["id"] == org.member_a.pk
    site_id = body["id"]
    assert member.get(f"/objects/construction_site/{site_id}").json()["name"] == "Harbour pier"
    patched = member.patch(
        f"/objects/construction_site/{site_id}", {"notes": "Pile driving", "version": 1}
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert member.patch(f"/objects/construction_site/{site_id}", {"version": 1}).status_code == 409
    listing = member.get("/objects/construction_site?q=harbour").json()
    assert [item["id"] for item in listing["items"]] == [site_id]
    assert member.get("/objects/construction_site?sort=nonsense").status_code == 422
    history = member.get(f"/objects/construction_site/{site_id}/history").json()
    assert history["count"] == 2

    outsider = Api(org.support_member)
    for path in (
        f"/objects/construction_site/{site_id}",
        f"/objects/construction_site/{site_id}/history",
    ):
        assert outsider.get(path).status_code == 404
    assert outsider.get("/objects/construction_site").json()["count"] == 0
    assert outsider.get(f"/objects/construction_site/{10**9}").status_code == 404
    assert member.get("/objects/no_such_type").status_code == 404
    export = Api(org.admin).get("/objects/construction_site/export")
    assert (
        export.status_code == 200 and "Harbour pier" in b"".join(export.streaming_content).decode()
    )
    assert member.delete(f"/objects/construction_site/{site_id}").status_code == 403  # no grant
    assert Api(org.admin).delete(f"/objects/construction_site/{site_id}").status_code == 204


def test_a_type_another_process_defines_is_live_here_at_the_next_request(org, define_type):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kontor.core import stamps
    from kontor.objects import registry

    define_type("site", "Site", "Sites")
    # What another process's service does: the row and a new token, in one transaction.
    ObjectTypeDefinition.objects.create(slug="vessel", singular="Vessel", plural="Vessels")
    assert registry.resolve("vessel") is None  # the token has not moved: nothing reloads
    stamps.bump(registry.STAMP)
    assert registry.resolve("vessel").plural == "Vessels"
    # Within a request the token is read once, however often a type is resolved.
    with stamps.read_once(), CaptureQueriesContext(connection) as reads:
        for slug in ("site", "vessel", "site"):
            assert registry.resolve(slug) is not None
    assert sum("core_definitionstamp" in q["sql"] for q in reads.captured_queries) == 1
