"""A list grouped by owner, department, a custom field or a type's own grouping: rows in
group order, a header with the group's name and record count where the group changes."""

import re
from html import unescape

import pytest
from django.urls import reverse

from kontor.activities import services as tasks
from kontor.contacts import services as contacts
from kontor.core import types
from kontor.core.customfields import services as field_services
from kontor.savedviews import services as views

PEOPLE = types.get("contacts.person")


def headers(html: str) -> list[tuple[str, str]]:
    """(group name, count) of each group header on the page, in order."""
    found = re.findall(
        r'<tr class="group-row" data-testid="group-row"><th [^>]*>(.*?) '
        r'<span class="group-count">([^<]*)</span>',
        html,
    )
    return [(unescape(name), count) for name, count in found]


def row_names(html: str) -> list[str]:
    return re.findall(r'class="row-title"[^>]*>([^<]+)<', html)


@pytest.fixture
def vip(org):
    return field_services.create_field(
        actor=org.admin, object_type="contacts.person", name="vip", label="VIP", kind="boolean"
    )


def test_people_grouped_by_owner_and_by_a_custom_field(client, org, vip):
    for first, owner, is_vip in (
        ("Anna", org.member_b, True),
        ("Boris", org.member_a, None),
        ("Clara", org.member_a, False),
        ("Dora", org.member_b, True),
    ):
        custom = {} if is_vip is None else {"vip": is_vip}
        contacts.create_person(
            {"first_name": first, "owner_id": owner.pk, "custom": custom}, actor=org.admin
        )
    client.force_login(org.admin)
    page = client.get(reverse("contacts:person_list") + "?group=owner&sort=name").content.decode()
    a, b = str(org.member_a), str(org.member_b)
    expected = sorted([(a, "2"), (b, "2")], key=lambda h: (org.member_a.last_name, h))
    assert sorted(headers(page)) == sorted(expected)
    assert 'value="owner" selected' in page
    page = client.get(reverse("contacts:person_list") + "?group=cf.vip&sort=name").content.decode()
    # No, then Yes, then the empty group (last, as an empty custom value sorts); each
    # with its count.
    assert headers(page) == [("No", "1"), ("Yes", "2"), ("(none)", "1")]
    assert row_names(page)[:4] == ["Clara", "Anna", "Dora", "Boris"]


def test_an_unknown_or_hidden_grouping_is_ignored(client, org, vip):
    contacts.create_person({"first_name": "Anna"}, actor=org.member_a)
    client.force_login(org.member_a)
    page = client.get(reverse("contacts:person_list") + "?group=nope").content.decode()
    assert headers(page) == [] and "Anna" in page
    field_services.update_field(vip, actor=org.admin, view_roles=[org.admin.roles.get().pk])
    assert "cf.vip" not in PEOPLE.groupings(org.member_a)
    page = client.get(reverse("contacts:person_list") + "?group=cf.vip").content.decode()
    assert headers(page) == []


def test_tasks_grouped_by_status_with_their_labels_and_counts(client, org):
    for n in range(3):
        tasks.create_task(
            {"title": f"Open {n}", "assignee_id": org.member_a.pk}, actor=org.member_a
        )
    done = tasks.create_task({"title": "Done", "assignee_id": org.member_a.pk}, actor=org.member_a)
    tasks.update_task(done, {"status": "done"}, actor=org.member_a)
    client.force_login(org.member_a)
    page = client.get(reverse("activities:task_list") + "?group=status").content.decode()
    assert headers(page) == [("Done", "1"), ("Open", "3")]


def test_a_saved_view_keeps_its_grouping(org):
    view = views.create(PEOPLE, {"name": "By owner", "query": {"group": "owner"}}, actor=org.admin)
    assert view.query == {"group": ["owner"]}
    assert views.open_query(view) == "?group=owner"


def test_every_types_every_grouping_answers(client, org):
    client.force_login(org.admin)
    for rt in types.record_types():
        for key in rt.groupings(org.admin):
            answer = client.get(rt.url("list") + f"?group={key}")
            assert answer.status_code == 200, (rt.object_type, key)


def test_a_yes_no_formula_field_groups_the_list(client, org, vip):
    field_services.create_field(
        actor=org.admin,
        object_type="contacts.person",
        name="long_name",
        label="Long name",
        kind="formula",
        formula="len(first_name) > 4",
    )
    for first in ("Anna", "Boris", "Clara"):
        contacts.create_person({"first_name": first}, actor=org.member_a)
    assert "cf.long_name" in PEOPLE.groupings(org.member_a)
    client.force_login(org.member_a)
    page = client.get(reverse("contacts:person_list") + "?group=cf.long_name").content.decode()
    assert headers(page) == [("No", "1"), ("Yes", "2")]
