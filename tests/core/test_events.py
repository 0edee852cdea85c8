"""The event outbox: written with the change, delivered after it, retried, visible to admins.

The dispatcher killed mid-delivery, as a real process: tests/core/test_outbox_kill.py.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from kontor.contacts import services as contacts
from kontor.contacts.models import Person
from kontor.core import events, timers
from kontor.core.errors import NotFound, PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry, OutboxDelivery, OutboxEvent, Timer

Status = OutboxDelivery.Status


@pytest.fixture
def received():
    """Subscribes a recording handler to people's events for the test's length."""
    seen = []
    events.subscribe("contacts.person.*", seen.append, name="test.received")
    yield seen
    events.unsubscribe("test.received")


@pytest.fixture
def failing(settings):
    """A handler for companies' events that fails while ``errors`` holds messages."""
    settings.KONTOR_EVENTS_MAX_ATTEMPTS = 3
    errors = ["SMTP down"]
    calls = []

    def handler(event):
        calls.append(event.idempotency_key)
        if errors:
            raise RuntimeError(errors[0])

    events.subscribe("contacts.company.created", handler, name="test.failing")
    yield errors, calls
    events.unsubscribe("test.failing")


def make_due(delivery_id):
    OutboxDelivery.objects.filter(pk=delivery_id).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


def test_an_event_is_written_with_the_change_and_delivered_only_by_the_dispatcher(org, received):
    person = contacts.create_person({"first_name": "Ivan"}, actor=org.member_a)

    event = OutboxEvent.objects.get(type__startswith="contacts.")
    assert event.type == "contacts.person.created"
    assert event.payload == {
        "object_type": "contacts.person",
        "object_id": person.pk,
        "actor_id": org.member_a.pk,
        "changes": AuditEntry.objects.for_object(person).get().changes,
    }
    assert received == []

    assert events.deliver_pending() == 1
    (delivered,) = received
    assert (delivered.id, delivered.type, delivered.payload) == (
        event.pk,
        event.type,
        event.payload,
    )
    assert delivered.idempotency_key == f"{event.pk}:test.received"
    assert OutboxDelivery.objects.get().status == Status.DONE
    assert events.deliver_pending() == 0  # done is done


def test_a_rolled_back_write_leaves_no_event(org, received):
    with pytest.raises(ValidationFailed):
        contacts.create_person({"first_name": ""}, actor=org.member_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        contacts.create_person({"first_name": "Vera"}, actor=org.member_a)
        raise RuntimeError("the caller's transaction fails after the write")

    assert not OutboxEvent.objects.filter(type__startswith="contacts.").exists()
    assert events.deliver_pending() == 0
    assert received == []


def test_each_subscribed_handler_gets_its_own_delivery_and_key(org, received):
    also = []
    events.subscribe("contacts.person.updated", also.append, name="test.updates")
    try:
        person = contacts.create_person({"first_name": "Ivan"}, actor=org.member_a)
        contacts.update_person(person, {"last_name": "Petrov"}, actor=org.member_a)
        company = contacts.create_company({"name": "Acme"}, actor=org.member_a)
        events.deliver_pending()
    finally:
        events.unsubscribe("test.updates")

    assert [e.type for e in received] == ["contacts.person.created", "contacts.person.updated"]
    assert [e.type for e in also] == ["contacts.person.updated"]
    assert also[0].id == received[1].id
    assert also[0].idempotency_key != received[1].idempotency_key
    # The company's event matched no handler: written and fanned out, nothing to deliver.
    company_event = OutboxEvent.objects.get(type="contacts.company.created")
    assert company_event.payload["object_id"] == company.pk
    assert company_event.fanned_out and not company_event.deliveries.exists()


def test_a_failing_handler_is_retried_with_growing_delays_then_marked_failed(org, failing):
    errors, calls = failing
    contacts.create_company({"name": "Acme"}, actor=org.member_a)

    delays = []
    for attempt in (1, 2, 3):
        before = timezone.now()
        assert events.deliver_pending() == 1
        delivery = OutboxDelivery.objects.get()
        assert delivery.attempts == attempt
        assert "RuntimeError: SMTP down" in delivery.last_error
        delays.append(delivery.due_at - before)
        if attempt < 3:
            assert delivery.status == Status.PENDING
            assert events.deliver_pending() == 0  # not due yet
            make_due(delivery.pk)
    assert delivery.status == Status.FAILED
    assert delays[0] >= events.retry_delay(1) and delays[1] >= events.retry_delay(2)
    assert events.retry_delay(2) == 2 * events.retry_delay(1)
    assert events.retry_delay(40) == timedelta(hours=1)  # the cap
    assert len(set(calls)) == 1 and len(calls) == 3  # one delivery, one key, three runs

    errors.clear()
    assert events.deliver_pending() == 0  # failed stays failed until someone retries


def test_old_delivered_events_are_purged_and_undelivered_ones_kept(org, received, failing):
    errors, _calls = failing
    contacts.create_person({"first_name": "Ivan"}, actor=org.member_a)
    contacts.create_company({"name": "Acme"}, actor=org.member_a)
    events.deliver_pending()
    delivered = OutboxDelivery.objects.get(handler="test.received").event_id
    waiting = OutboxDelivery.objects.get(handler="test.failing")
    failed = waiting.event_id
    assert events.purge_delivered(keep_days=30) == 0  # too young
    OutboxEvent.objects.update(occurred_at=timezone.now() - timedelta(days=31))
    # Every event but the failed delivery's: the person's, and the set-up's (no handler).
    written = OutboxEvent.objects.count()
    assert events.purge_delivered(keep_days=30) == written - 1
    assert list(OutboxEvent.objects.values_list("id", flat=True)) == [failed]
    assert not OutboxDelivery.objects.filter(event_id=delivered).exists()
    # Retried and delivered, it goes too.
    errors.clear()
    events.retry(org.admin, [waiting.pk])
    events.deliver_pending()
    assert events.purge_delivered(keep_days=30, batch=1) == 1
    assert not OutboxEvent.objects.exists()


def test_a_lapsed_lease_is_claimed_again_and_a_live_one_is_not(org, received):
    contacts.create_person({"first_name": "Ivan"}, actor=org.member_a)
    events._fan_out(1000)
    # A dispatcher claims the delivery, starts it and dies.
    (claimed,) = events._claim(10)
    assert events._start(claimed)
    assert events.deliver_pending() == 0  # its lease still holds
    OutboxDelivery.objects.filter(pk=claimed.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )

    assert events.deliver_pending() == 1
    assert [e.idempotency_key for e in received] == [claimed.idempotency_key]
    delivery = OutboxDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.DONE, 2)


def test_a_delivery_that_takes_its_dispatcher_down_every_time_ends_failed(org, received, settings):
    settings.KONTOR_EVENTS_MAX_ATTEMPTS = 1
    contacts.create_person({"first_name": "Ivan"}, actor=org.member_a)
    events._fan_out(1000)
    (claimed,) = events._claim(10)
    assert events._start(claimed)
    OutboxDelivery.objects.filter(pk=claimed.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )

    assert events.deliver_pending() == 0
    delivery = OutboxDelivery.objects.get()
    assert delivery.status == Status.FAILED and "stopped while it ran" in delivery.last_error


def test_a_claimed_delivery_its_dead_dispatcher_never_started_keeps_its_attempts(
    org, received, settings
):
    settings.KONTOR_EVENTS_MAX_ATTEMPTS = 1
    contacts.create_person({"first_name": "Ivan"}, actor=org.member_a)
    events._fan_out(1000)
    for _dead_dispatcher in range(3):
        (claimed,) = events._claim(10)
        OutboxDelivery.objects.filter(pk=claimed.pk).update(
            claimed_until=timezone.now() - timedelta(seconds=1)
        )

    assert events.deliver_pending() == 1
    delivery = OutboxDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Status.DONE, 1)


def test_deliveries_of_a_handler_this_process_lacks_fail_visibly(org, received):
    contacts.create_person({"first_name": "Ivan"}, actor=org.member_a)
    events._fan_out(1000)
    OutboxDelivery.objects.update(handler="test.removed")

    assert events.deliver_pending() == 1
    delivery = OutboxDelivery.objects.get()
    assert delivery.status == Status.PENDING and "test.removed" in delivery.last_error


def test_an_admin_retries_failed_deliveries_and_the_retry_is_audited(org, failing):
    errors, calls = failing
    contacts.create_company({"name": "Acme"}, actor=org.member_a)
    events.deliver_pending()
    OutboxDelivery.objects.update(status=Status.FAILED)
    delivery = OutboxDelivery.objects.get()

    with pytest.raises(PermissionDenied):
        events.retry(org.member_a)
    with pytest.raises(NotFound):
        events.retry(org.admin, [delivery.pk, delivery.pk + 1000])
    assert events.deliveries(org.member_a, Status.FAILED).count() == 0
    assert list(events.deliveries(org.admin, Status.FAILED)) == [delivery]

    errors.clear()
    assert events.retry(org.admin) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)
    entry = AuditEntry.objects.for_object(delivery).get()
    assert entry.action == "core.outboxdelivery.retried" and entry.actor == org.admin

    assert events.deliver_pending() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (Status.DONE, "")
    assert events.retry(org.admin) == 0


def test_a_bulk_write_gets_the_same_events_a_record_at_a_time_would(org, received):
    from kontor.contacts import bulk

    one = contacts.create_person(
        {"first_name": "Ivan", "birthday": "1961-05-12", "tags": ["Ключ"]}, actor=org.member_a
    )
    (many,) = bulk.import_people(
        [{"first_name": "Ivan", "birthday": "1961-05-12", "tags": ["Ключ"]}], actor=org.member_a
    ).ids
    events.deliver_pending()

    single, imported = received
    assert imported.payload == {**single.payload, "object_id": many}
    assert imported.payload == events.record_payload(
        "contacts.person",
        many,
        org.member_a,
        AuditEntry.objects.for_object(Person.objects.get(pk=many)).get().changes,
    )
    assert single.payload["object_id"] == one.pk


def test_emit_audited_writes_only_the_named_records_events(org):
    people = [contacts.create_person({"first_name": n}, actor=org.admin) for n in "ABC"]
    OutboxEvent.objects.all().delete()

    events.emit_audited("contacts.person.created", "contacts.person", [people[0].pk, people[2].pk])

    written = OutboxEvent.objects.order_by("id")
    assert [e.payload["object_id"] for e in written] == [people[0].pk, people[2].pk]
    assert {e.type for e in written} == {"contacts.person.created"}
    assert not any(e.fanned_out for e in written)


def test_subscribing_another_handler_under_a_taken_name_is_refused():
    events.subscribe("a.b.c", print, name="test.taken")
    try:
        events.subscribe("a.b.c", print, name="test.taken")  # the same again: no change
        with pytest.raises(ValueError, match="test.taken"):
            events.subscribe("a.b.c", repr, name="test.taken")
    finally:
        events.unsubscribe("test.taken")


CATALOGUE = Path(__file__).parents[2] / "docs" / "events.md"


def test_the_catalogue_lists_exactly_the_events_the_services_emit(org):
    from kontor.accounts import services as accounts
    from kontor.activities import communication, notifications
    from kontor.activities import services as tasks
    from kontor.catalog import services as catalog
    from kontor.core.customfields import computed
    from kontor.core.customfields import services as field_services
    from kontor.objects import services as object_types

    admin = org.admin
    company = contacts.create_company({"name": "Acme"}, actor=admin)
    contacts.update_company(company, {"industry": "Steel"}, actor=admin)
    person = contacts.create_person({"first_name": "Ivan", "company": company.pk}, actor=admin)
    contacts.update_person(person, {"last_name": "Petrov"}, actor=admin)
    contacts.delete_company(company, actor=admin)
    contacts.delete_person(Person.objects.get(pk=person.pk), actor=admin)
    department = accounts.create_department(name="Audit", parent=org.dept.root, actor=admin)
    department = accounts.rename_department(department, name="Audit 2", actor=admin)
    accounts.delete_department(department, actor=admin)
    role = accounts.create_role(name="Reader", actor=admin)
    role = accounts.update_role(role, description="Reads", actor=admin)
    accounts.delete_role(role, actor=admin)
    user = accounts.create_user(email="new@example.com", password=None, actor=admin)
    accounts.update_user(user, {"first_name": "New"}, actor=admin)
    definition = object_types.create_definition(
        {"slug": "catalogue_site", "singular": "site", "plural": "sites"}, actor=admin
    )
    object_types.update_definition(definition, {"plural": "building sites"}, actor=admin)
    object_types.delete_definition(definition, actor=admin)
    field = field_services.create_field(
        actor=admin, object_type="contacts.person", name="tier", label="Tier", kind="text"
    )
    field = field_services.update_field(field, actor=admin, label="Level")
    field_services.delete_field(field, actor=admin)
    age = field_services.create_field(
        actor=admin,
        object_type="contacts.person",
        name="age",
        label="Age",
        kind="formula",
        formula="year(today()) - year(birthday)",
    )
    computed.refresh_daily(None)  # the nightly timer's refresh of today()'s formulas
    field_services.delete_field(age, actor=admin)
    task = tasks.create_task({"title": "Catalogue", "remind_at": timezone.now()}, actor=admin)
    task = tasks.update_task(task, {"priority": 3}, actor=admin)
    timers.fire_due()  # the reminder: a notification for the admin
    Timer.objects.filter(kind=notifications.EMAIL_TIMER).update(due_at=timezone.now())
    timers.fire_due()  # left unseen: its mail is asked for
    tasks.delete_task(task, actor=admin)
    for entries, field in (
        (communication.NOTES, "body"),
        (communication.CALLS, "summary"),
        (communication.EMAILS, "subject"),
    ):
        entry = entries.create({field: "Catalogue"}, actor=admin)
        entry = entries.update(entry, {field: "Catalogue 2"}, actor=admin)
        entries.delete(entry, actor=admin)

    rate = catalog.create_vat_rate({"name": "Standard", "rate": "19"}, actor=admin)
    product = catalog.create_product({"sku": "CEM", "name": "Cement", "price": "7.40"}, actor=admin)
    product = catalog.update_product(product, {"price": "7.60"}, actor=admin)
    catalog.delete_product(product, actor=admin)
    rate = catalog.update_vat_rate(rate, {"rate": "16"}, actor=admin)
    catalog.delete_vat_rate(rate, actor=admin)

    emitted = set(OutboxEvent.objects.values_list("type", flat=True))
    catalogue = CATALOGUE.read_text().split("## Catalogue", 1)[1]
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+\.[a-z_]+)` \|", catalogue, re.M))
    assert emitted == documented
    assert set(events.RECORD_VERBS) <= {name.rsplit(".", 1)[1] for name in documented}
