"""Search documents follow a custom field's changes: a value hidden from a role stops
finding its record for that role, and finds it again when the field opens."""

import pytest

from kontor.accounts.models import Role
from kontor.contacts import services
from kontor.contacts.models import Person
from kontor.core import events, search
from kontor.core.customfields import services as field_services
from kontor.core.models import CustomField, SearchDocument
from tests.utils.clients import Api

pytestmark = pytest.mark.django_db


def found(user, q):
    return [p.first_name for p in search.search_model(user, Person, q)]


def api_hits(user, q):
    """The titles the global search API answers ``user`` for ``q``."""
    groups = Api(user).get(f"/search?q={q}").json()["groups"]
    return [hit["title"] for group in groups for hit in group["items"]]


@pytest.fixture
def nickname(org):
    field = field_services.create_field(
        actor=org.admin,
        object_type="contacts.person",
        name="nickname",
        label="Nickname",
        kind="text",
    )
    services.create_person(
        {
            "first_name": "Ivan",
            "phones": [{"number": "+7 916 123-45-67"}],
            "custom": {"nickname": "Zephyrine"},
        },
        actor=org.member_a,
    )
    services.create_person({"first_name": "Olga"}, actor=org.member_a)
    return field


def change(field, actor, **changes):
    current = CustomField.objects.get(pk=field.pk)
    field_services.update_field(current, actor=actor, **changes)
    events.deliver_pending()


def test_a_field_given_view_roles_stops_finding_records_for_other_roles(org, nickname):
    assert found(org.member_a, "zephyr") == ["Ivan"]
    assert api_hits(org.member_a, "zephyr") == ["Ivan"]
    head = Role.objects.get(name="head")

    change(nickname, org.admin, view_roles=[head.pk])
    assert found(org.member_a, "zephyr") == []
    assert api_hits(org.member_a, "zephyr") == []
    assert found(org.sales_head, "zephyr") == []  # a shared document holds no hidden text
    # The rest of the document is rebuilt with it: the phone still finds the person.
    assert found(org.member_a, "916 123") == ["Ivan"]

    change(nickname, org.admin, view_roles=[])
    assert found(org.member_a, "zephyr") == ["Ivan"]


def test_a_removed_field_no_longer_finds_records(org, nickname):
    field_services.delete_field(nickname, actor=org.admin)
    events.deliver_pending()
    assert found(org.member_a, "zephyr") == []
    assert found(org.member_a, "ivan") == ["Ivan"]


def test_a_change_search_does_not_read_leaves_documents_alone(org, nickname):
    before = dict(SearchDocument.objects.values_list("object_id", "body"))
    change(nickname, org.admin, label="Alias", help_text="What friends call them")
    assert dict(SearchDocument.objects.values_list("object_id", "body")) == before
    assert search.rebuild_documents(Person) == 0  # every document already current


def test_a_worker_that_never_loaded_a_custom_type_still_rebuilds_its_documents(org, define_type):
    from kontor.objects import registry as object_registry

    site = define_type("site", "Construction site", "Construction sites")
    field = field_services.create_field(
        actor=org.admin, object_type="objects.site", name="code", label="Code", kind="text"
    )
    record = site.create({"name": "Tower", "custom": {"code": "Quokka"}}, actor=org.member_a)
    model = type(record)
    assert [r.name for r in search.search_model(org.member_a, model, "quokka")] == ["Tower"]
    head = Role.objects.get(name="head")
    field_services.update_field(field, actor=org.admin, view_roles=[head.pk])
    # As in a worker started before the type was defined: the type is not in this process.
    object_registry._drop("site")
    object_registry._stamp = None
    events.deliver_pending()
    assert not SearchDocument.objects.filter(body__contains="quokka").exists()
    assert SearchDocument.objects.filter(
        object_type="objects.site", body__contains="tower"
    ).exists()
