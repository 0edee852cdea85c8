"""Deleting many records at once (kontor.core.services.delete_records through a type's
``delete_many``, and ``bulk_delete``) leaves what deleting each one alone leaves: the
same audit entry and event, no search document, timer or timeline link; companies'
people lose their employer with their history saying so."""

import datetime

import pytest
from django.utils import timezone

from kontor.activities import services as tasks
from kontor.activities.models import Task
from kontor.contacts import services
from kontor.contacts.models import Company, Email, Person, Phone
from kontor.contacts.types import COMPANY, PERSON
from kontor.core import services as records
from kontor.core import types
from kontor.core.errors import PermissionDenied
from kontor.core.models import AuditEntry, OutboxEvent, SearchDocument, TimelineLink, Timer

pytestmark = pytest.mark.django_db


def person(actor, name, company=None):
    return services.create_person(
        {
            "first_name": name,
            "last_name": "Ivanova",
            "company_id": company.pk if company else None,
            "phones": [{"number": "+7 916 555-01-02", "kind": "work"}],
            "emails": [{"address": "same@example.com"}],
            "tags": ["vip"],
        },
        actor=actor,
    )


def deletion(obj) -> tuple[dict, dict]:
    """The audit entry and the event deleting ``obj`` wrote, without its id and name."""
    object_type = obj._meta.label_lower
    entry = AuditEntry.objects.get(
        object_type=object_type, object_id=obj.pk, action__endswith="deleted"
    )
    event = OutboxEvent.objects.get(type=entry.action, payload__object_id=obj.pk)
    assert event.payload["changes"] == entry.changes
    changes = {k: v for k, v in entry.changes.items() if k != "first_name"}
    audited = {"action": entry.action, "channel": entry.channel, "actor": entry.actor_id}
    return {**audited, "changes": changes}, {
        k: v for k, v in event.payload.items() if k not in ("object_id", "changes")
    }


def test_many_deleted_at_once_leave_what_one_deleted_alone_leaves(org):
    alone, first, second = (person(org.sales_head, n) for n in ("Alone", "First", "Second"))
    soon = timezone.now() + datetime.timedelta(days=1)
    task = tasks.create_task(
        {"title": "Call", "links": [f"person:{second.pk}"], "remind_at": soon}, actor=org.sales_head
    )
    assert Timer.objects.filter(object_type="activities.task", object_id=task.pk).exists()
    about_second = TimelineLink.objects.filter(subject_type="contacts.person", subject_id=second.pk)
    assert about_second.exists()

    records.delete_record(alone, actor=org.sales_head)
    result = records.bulk_delete(PERSON, [first.pk, second.pk, 999_999], actor=org.sales_head)
    records.bulk_delete(types.get("activities.task"), [task.pk], actor=org.sales_head)

    assert (result.done, result.skipped, result.missing) == (2, [], 1)
    assert deletion(first) == deletion(second) == deletion(alone)
    audited, _event = deletion(first)
    assert audited["changes"]["phones"] == [["work: +7 916 555-01-02"], None]
    assert audited["changes"]["tags"] == [["vip"], None]
    gone = [alone.pk, first.pk, second.pk]
    assert not Person.objects.filter(pk__in=gone).exists()
    assert not Phone.objects.filter(person_id__in=gone).exists()
    assert not Email.objects.filter(person_id__in=gone).exists()
    assert not SearchDocument.objects.filter(object_type="contacts.person", object_id__in=gone)
    assert not about_second.exists()
    assert not Task.objects.filter(pk=task.pk).exists()
    assert not Timer.objects.filter(object_type="activities.task", object_id=task.pk).exists()


def test_companies_deleted_at_once_leave_their_people_without_employer(org):
    north, south = (
        services.create_company({"name": name}, actor=org.sales_head) for name in ("North", "South")
    )
    olga, ivan = person(org.sales_head, "Olga", north), person(org.sales_head, "Ivan", south)

    assert records.bulk_delete(COMPANY, [north.pk, south.pk], actor=org.sales_head).done == 2

    assert not Company.objects.filter(pk__in=[north.pk, south.pk]).exists()
    for someone, company in ((olga, north), (ivan, south)):
        someone.refresh_from_db()
        assert (someone.company_id, someone.company_name) == (None, "")
        entry = AuditEntry.objects.get(
            object_type="contacts.person", object_id=someone.pk, action="contacts.person.updated"
        )
        assert entry.changes == {"company_id": [company.pk, None]}


def test_records_not_theirs_to_delete_are_skipped_or_refuse_the_call(org):
    theirs = person(org.sales_head, "Theirs")
    mine = person(org.member_a, "Mine")
    # A member may not delete at all; a head may not delete what they cannot see.
    with pytest.raises(PermissionDenied):
        records.bulk_delete(PERSON, [mine.pk], actor=org.member_a)
    with pytest.raises(PermissionDenied):
        records.delete_records([mine, theirs], actor=org.member_a)
    assert Person.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
    outsider = services.create_person(
        {"first_name": "Support", "department_id": org.dept.support.pk}, actor=org.admin
    )
    result = records.bulk_delete(PERSON, [outsider.pk, theirs.pk], actor=org.sales_head)
    assert (result.done, result.missing) == (1, 1)
    assert Person.objects.filter(pk=outsider.pk).exists()
