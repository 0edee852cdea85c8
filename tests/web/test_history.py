"""The history page of anything registered: users, departments and roles included."""

from django.urls import reverse

from kontor.accounts import services as accounts
from kontor.contacts import services as contacts


def history_url(object_type: str, pk: int) -> str:
    return reverse("web:history", args=[object_type, pk])


def test_a_roles_history_is_shown_to_who_may_view_roles_and_hidden_as_absent_from_others(
    client, org
):
    role = accounts.create_role(name="Auditor", description="Reads", actor=org.admin)
    accounts.update_role(role, description="Reads everything", actor=org.admin)

    client.force_login(org.admin)
    page = client.get(history_url("accounts.role", role.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Reads everything" in html and "Auditor" in html

    client.force_login(org.member_b)
    assert client.get(history_url("accounts.role", role.pk)).status_code == 404
    assert client.get(history_url("accounts.role", 10**9)).status_code == 404


def test_a_users_history_follows_who_may_view_that_user(client, org):
    accounts.update_user(org.member_a, {"first_name": "Annette"}, actor=org.admin)

    client.force_login(org.member_b)  # same department: may view Anna's account
    html = client.get(history_url("accounts.user", org.member_a.pk)).content.decode()
    assert "Annette" in html
    client.force_login(org.support_member)  # another department
    assert client.get(history_url("accounts.user", org.member_a.pk)).status_code == 404


def test_a_records_history_is_its_history_tab_and_unknown_types_are_404(client, org):
    person = contacts.create_person({"first_name": "Ivan"}, actor=org.member_a)
    client.force_login(org.member_a)
    response = client.get(history_url("contacts.person", person.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:person_tab", args=[person.pk, "history"])
    assert client.get(history_url("nothing.here", 1)).status_code == 404
    client.force_login(org.support_member)
    assert client.get(history_url("contacts.person", person.pk)).status_code == 404


def test_settings_pages_link_to_the_history(client, org):
    client.force_login(org.admin)
    page = client.get(reverse("accounts:user_edit", args=[org.member_a.pk])).content.decode()
    assert history_url("accounts.user", org.member_a.pk) in page
