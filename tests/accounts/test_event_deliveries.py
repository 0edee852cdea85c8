"""The event deliveries page: administrators see failed and waiting deliveries and retry them."""

import pytest
from django.urls import reverse

from kontor.contacts import services as contacts
from kontor.core import events
from kontor.core.models import AuditEntry, OutboxDelivery

Status = OutboxDelivery.Status
PAGE = "/settings/events/"


@pytest.fixture
def broken_handler(org):
    """A company created by member A whose one delivery failed for good."""

    def handler(event):
        raise ConnectionError("webhook host unreachable")

    events.subscribe("contacts.company.created", handler, name="test.webhook")
    contacts.create_company({"name": "Acme"}, actor=org.member_a)
    events.deliver_pending()
    OutboxDelivery.objects.update(status=Status.FAILED)
    yield OutboxDelivery.objects.get()
    events.unsubscribe("test.webhook")


def test_an_admin_sees_a_failed_delivery_with_its_error_and_retries_it(client, org, broken_handler):
    client.force_login(org.admin)
    html = client.get(PAGE).content.decode()
    assert "contacts.company.created" in html and "test.webhook" in html
    assert "ConnectionError: webhook host unreachable" in html
    assert "Retry all failed" in html
    waiting = client.get(PAGE + "?status=pending").content.decode()
    assert "Nothing waiting" in waiting

    response = client.post(
        reverse("accounts:event_retry"), {"delivery": broken_handler.pk, "status": "failed"}
    )
    assert response.status_code == 302 and response["Location"] == PAGE + "?status=failed"
    broken_handler.refresh_from_db()
    assert (broken_handler.status, broken_handler.attempts) == (Status.PENDING, 0)
    assert AuditEntry.objects.for_object(broken_handler).get().actor == org.admin
    html = client.get(PAGE + "?status=pending").content.decode()
    assert "test.webhook" in html
    assert "No failed deliveries" in client.get(PAGE).content.decode()


def test_retry_all_failed_and_a_stale_retry_is_told_not_404(client, org, broken_handler):
    client.force_login(org.superuser)
    client.post(reverse("accounts:event_retry"), {"status": "failed"})
    assert OutboxDelivery.objects.get().status == Status.PENDING

    OutboxDelivery.objects.update(status=Status.DONE)
    response = client.post(
        reverse("accounts:event_retry"), {"delivery": broken_handler.pk}, follow=True
    )
    assert f"No failed or waiting delivery with the id {broken_handler.pk}." in (
        response.content.decode()
    )


def test_a_member_and_a_head_get_404_and_no_menu_entry(client, org, broken_handler):
    for user in (org.member_a, org.sales_head):
        client.force_login(user)
        assert client.get(PAGE).status_code == 404
        assert (
            client.post(reverse("accounts:event_retry"), {"delivery": broken_handler.pk})
        ).status_code == 404
        assert PAGE not in client.get("/settings/password/").content.decode()
    assert OutboxDelivery.objects.get().status == Status.FAILED


def test_the_page_speaks_french(client, org, broken_handler):
    client.force_login(org.admin)
    html = client.get(PAGE, headers={"accept-language": "fr"}).content.decode()
    assert "Gestionnaire" in html and "Relancer maintenant" in html


def test_a_role_granting_view_on_core_event_shows_the_page_but_not_retry(
    client, org, broken_handler
):
    from kontor.accounts import services as accounts
    from kontor.core.access import Scope

    watcher = accounts.create_role(
        name="Integration watcher", grants=[("core.event", "view", Scope.ALL)], actor=org.admin
    )
    accounts.update_user(org.member_b, {"roles": [watcher]}, actor=org.admin)
    client.force_login(org.member_b)

    html = client.get(PAGE).content.decode()
    assert "test.webhook" in html and "Retry" not in html
    assert (
        client.post(reverse("accounts:event_retry"), {"delivery": broken_handler.pk})
    ).status_code == 404
