"""The built-in member role sets tasks for colleagues of their department (and edits
only their own); the grant reaches an existing install once, an admin's change stays."""

import pytest
from django.urls import reverse

from kontor.accounts.models import Role, RoleGrant
from kontor.accounts.services import install_builtin_type_grants
from kontor.contacts import services as contacts
from kontor.core.access import Action, Scope, scope_for
from kontor.core.errors import PermissionDenied

from ..utils.clients import Api, browser

pytestmark = pytest.mark.django_db


def test_a_member_assigns_a_task_to_a_colleague_of_their_department(org):
    assert scope_for(org.member_a, "activities.task", Action.CREATE) == Scope.DEPARTMENT
    assert scope_for(org.member_a, "contacts.person", Action.CREATE) == Scope.OWN
    api = Api(org.member_a)
    created = api.post("/tasks", {"title": "Call the client back", "owner_id": org.member_b.pk})
    assert created.status_code == 201
    task = created.json()
    assert (task["owner"]["id"], task["created_by"]["id"]) == (org.member_b.pk, org.member_a.pk)
    assert [t["title"] for t in Api(org.member_b).get("/tasks?mine=true").json()["items"]] == [
        "Call the client back"
    ]
    assert [t["id"] for t in api.get("/tasks?set_by=others").json()["items"]] == [task["id"]]
    # Handed over, it is the assignee's to change (members edit their own).
    assert api.patch(f"/tasks/{task['id']}", {"title": "x", "version": 1}).status_code == 403

    # Not outside the department: a user there is unknown to the member.
    refused = api.post("/tasks", {"title": "Team two", "owner_id": org.member_c.pk})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"owner_id": ["Unknown user."]}
    # Only tasks: a person still goes to its creator alone.
    with pytest.raises(PermissionDenied):
        contacts.create_person(
            {"first_name": "A", "last_name": "B", "owner_id": org.member_b.pk}, actor=org.member_a
        )

    form = browser(org.member_a).get(reverse("activities:task_create")).content.decode()
    assert f'value="{org.member_b.pk}"' in form


def test_the_grant_reaches_an_existing_install_once_and_an_admins_change_stays(org):
    member = Role.objects.get(name="member")
    grant = RoleGrant.objects.get(role=member, object_type="activities.task")
    grant.scope = int(Scope.OWN)
    grant.save()
    install_builtin_type_grants(Role, RoleGrant, "member")
    assert RoleGrant.objects.get(pk=grant.pk).scope == Scope.OWN
    grant.delete()
    install_builtin_type_grants(Role, RoleGrant, "member")
    assert (
        RoleGrant.objects.get(role=member, object_type="activities.task").scope == Scope.DEPARTMENT
    )
