"""/api/v1/fields: custom field definitions through the API, for administrators only."""

import pytest

from kontor.contacts import services as contacts
from kontor.core.models import CustomField
from tests.utils.clients import Api

pytestmark = pytest.mark.django_db

TIER = {
    "object_type": "contacts.person",
    "name": "tier",
    "label": "Tier",
    "kind": "choice",
    "choices": [{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}],
    "section": "Sales",
}


def test_an_administrator_defines_changes_and_removes_a_field(org):
    api = Api(org.admin)
    created = api.post("/fields", TIER)
    assert created.status_code == 201, created.json()
    field = created.json()
    assert field["name"] == "tier" and field["version"] == 1 and field["view_roles"] == []
    assert field["choices"][0] == {"key": "gold", "label": "Gold"}

    listed = api.get("/fields?object_type=contacts.person").json()
    assert [f["name"] for f in listed] == ["tier"]
    assert api.get("/fields?object_type=contacts.company").json() == []
    assert api.get(f"/fields/{field['id']}").json()["label"] == "Tier"

    # The new field is in the type's own API at once.
    person = Api(org.member_a).post("/people", {"first_name": "Ivan", "custom": {"tier": "gold"}})
    assert person.status_code == 201 and person.json()["custom"] == {"tier": "gold"}

    changed = api.patch(f"/fields/{field['id']}", {"label": "Level", "version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.patch(f"/fields/{field['id']}", {"label": "Late", "version": 1})
    assert stale.status_code == 409 and set(stale.json()) == {"detail", "errors"}

    refused = api.patch(f"/fields/{field['id']}", {"kind": "integer"})
    assert refused.status_code == 422
    assert "cannot become" in refused.json()["errors"]["kind"][0]

    assert api.delete(f"/fields/{field['id']}?version=1").status_code == 409
    assert api.delete(f"/fields/{field['id']}?version=2").status_code == 204
    assert not CustomField.objects.exists()
    assert api.get(f"/fields/{field['id']}").status_code == 404


def test_errors_are_keyed_by_attribute(org):
    api = Api(org.admin)
    response = api.post(
        "/fields",
        {**TIER, "name": "Tier!", "choices": [], "currency": "EUR", "object_type": "nope.nope"},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"name", "choices", "currency", "object_type"} <= set(errors)
    unknown = api.post("/fields", {**TIER, "colour": "red"})
    assert unknown.status_code == 422 and "colour" in unknown.json()["errors"]


def test_anyone_else_gets_403_whatever_the_id(org):
    field = Api(org.admin).post("/fields", TIER).json()
    contacts.create_person({"first_name": "Ivan"}, actor=org.member_a)
    api = Api(org.member_a)
    for response in (
        api.get("/fields"),
        api.get(f"/fields/{field['id']}"),
        api.get("/fields/999999"),
        api.post("/fields", {**TIER, "name": "other"}),
        api.patch(f"/fields/{field['id']}", {"label": "Mine"}),
        api.delete(f"/fields/{field['id']}"),
    ):
        assert response.status_code == 403
    assert CustomField.objects.get().label == "Tier"
    assert Api().get("/fields").status_code == 401


def test_the_openapi_document_describes_the_routes(org):
    document = Api(org.admin).get("/openapi.json").json()
    assert {"/api/v1/fields", "/api/v1/fields/{field_id}"} <= set(document["paths"])
    create = document["paths"]["/api/v1/fields"]["post"]
    assert "FieldIn" in str(create["requestBody"]) and "422" in create["responses"]
    assert "409" in document["paths"]["/api/v1/fields/{field_id}"]["patch"]["responses"]
