"""Merging two people or companies: every pointer re-linked, audited, undone exactly."""

import datetime
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kontor.activities import communication
from kontor.activities import services as activities
from kontor.activities.models import Notification
from kontor.calendar import services as calendar
from kontor.contacts import services as contacts
from kontor.contacts.models import Company, Email, Person, Phone
from kontor.core import files, search, timeline
from kontor.core.access import SYSTEM
from kontor.core.customfields import services as field_services
from kontor.core.errors import Conflict, NotFound, PermissionDenied
from kontor.core.models import Attachment, AuditEntry, SearchDocument, TimelineLink
from kontor.dedup import merge
from kontor.dedup.models import REASON_BITS, Candidate, Merge
from kontor.sales import services as sales
from kontor.sales.models import Deal

PERSON = "contacts.person"


def state(record, *, row_ids: bool = True) -> dict:
    """A record's row and its own rows, as the database holds them (``row_ids``: with
    their ids; the survivor's lists are written again by its service on undo)."""
    model = type(record)
    row = model._base_manager.filter(pk=record.pk).values().get()
    for bookkeeping in ("version", "updated_at"):
        row.pop(bookkeeping)
    owned = {model._meta.model_name: record}
    lists = {
        name: [
            {k: v for k, v in item.items() if row_ids or k != "id"}
            for item in child.objects.filter(**owned).values()
        ]
        for name, child in (("phones", Phone), ("emails", Email))
    }
    return {"row": row, **lists, "tags": sorted(t.name for t in record.tags.all())}


def links_of(record) -> set:
    return set(
        TimelineLink.objects.filter(
            subject_type=record._meta.label_lower, subject_id=record.pk
        ).values_list("entry_type", "entry_id", "direct")
    )


@pytest.fixture
def pair(org):
    """Two records of one client, each with things pointing at it."""
    actor = org.member_a
    acme = contacts.create_company({"name": "Acme"}, actor=actor)
    keep = contacts.create_person(
        {
            "first_name": "Anna",
            "last_name": "Schmidt",
            "phones": [{"number": "+49 30 1234567"}],
            "emails": [{"address": "anna@acme.test"}],
            "tags": ["vip"],
        },
        actor=actor,
    )
    gone = contacts.create_person(
        {
            "first_name": "Anna",
            "last_name": "Schmitt",
            "position": "Buyer",
            "company_id": acme.pk,
            "phones": [{"number": "+49 30 1234567"}, {"number": "+49 171 7654321"}],
            "emails": [{"address": "a.schmitt@mail.test"}],
            "family": [{"relation": "son", "name": "Tim"}],
            "tags": ["lead"],
        },
        actor=actor,
    )
    field = field_services.create_field(
        actor=org.admin,
        object_type="sales.deal",
        name="referrer",
        label="Referrer",
        kind="relation",
        related_type=PERSON,
    )
    deal = sales.create_deal(
        {"title": "Roof", "amount": "100", "currency": "EUR", "person_id": gone.pk},
        actor=actor,
    )
    referred = sales.create_deal(
        {"title": "Walls", "amount": "5", "currency": "EUR", "custom": {"referrer": gone.pk}},
        actor=actor,
    )
    task = activities.create_task(
        {"title": "Call Anna", "links": [f"person:{gone.pk}"]}, actor=actor
    )
    both = communication.NOTES.create(
        {"body": "Met both", "links": [f"person:{gone.pk}", f"person:{keep.pk}"]}, actor=actor
    )
    note = communication.NOTES.create(
        {"body": "Asked for prices", "links": [f"person:{gone.pk}"]}, actor=actor
    )
    start = timezone.now() + datetime.timedelta(days=1)
    meeting = calendar.create_meeting(
        {
            "title": "Visit",
            "start": start,
            "end": start + datetime.timedelta(hours=1),
            "people_ids": [gone.pk],
            "owner_id": actor.pk,
            "department_id": actor.department_id,
        },
        actor=SYSTEM,
    )
    attachment = files.add_attachment(gone, SimpleUploadedFile("cv.pdf", b"%PDF-1.4"), actor=actor)
    notice = Notification.objects.create(
        recipient=actor, kind="reminder", title="Call Anna", object_type=PERSON, object_id=gone.pk
    )
    return SimpleNamespace(
        keep=keep, gone=gone, acme=acme, field=field, deal=deal, referred=referred, task=task,
        both=both, note=note, meeting=meeting, attachment=attachment, notice=notice,
    )  # fmt: skip


def test_a_merge_relinks_every_pointer_and_unites_the_lists(org, pair):
    keep, gone = pair.keep, pair.gone
    log = merge.merge(
        PERSON,
        keep.pk,
        gone.pk,
        actor=org.sales_head,
        choices={"last_name": "merged", "position": "merged", "company_id": "merged"},
        versions=(keep.version, gone.version),
    )
    assert not Person.objects.filter(pk=gone.pk).exists()
    keep = Person.objects.get(pk=keep.pk)
    assert (keep.first_name, keep.last_name, keep.position) == ("Anna", "Schmitt", "Buyer")
    assert keep.company_id == pair.acme.pk and keep.company_name == "Acme"
    assert [p.e164 for p in keep.phones.all()] == ["+49301234567", "+491717654321"]
    assert [e.address for e in keep.emails.all()] == ["anna@acme.test", "a.schmitt@mail.test"]
    assert sorted(t.name for t in keep.tags.all()) == ["lead", "vip"]
    assert [f.name for f in keep.family.all()] == ["Tim"]
    # Foreign keys, many-to-many, timeline links, attachments, custom relations.
    assert Deal.objects.get(pk=pair.deal.pk).person_id == keep.pk
    assert list(pair.meeting.people.all()) == [keep]
    assert Attachment.objects.get(pk=pair.attachment.pk).object_id == keep.pk
    assert Notification.objects.get(pk=pair.notice.pk).object_id == keep.pk
    assert Deal.objects.get(pk=pair.referred.pk).custom == {str(pair.field.pk): keep.pk}
    entries = {
        (e.obj._meta.label_lower, e.obj.pk) for e in timeline.feed(org.member_a, keep).entries
    }
    for entry in (pair.task, pair.both, pair.note, pair.deal):
        assert (entry._meta.label_lower, entry.pk) in entries
    # On the new employer's timeline too, through its person.
    company_entries = {e.obj.pk for e in timeline.feed(org.member_a, pair.acme).entries}
    assert pair.note.pk in company_entries
    assert not TimelineLink.objects.filter(subject_type=PERSON, subject_id=gone.pk).exists()
    # Search: the survivor is found by the merged record's email, the merged one is gone.
    assert not SearchDocument.objects.filter(object_type=PERSON, object_id=gone.pk).exists()
    assert keep in search.search_model(org.member_a, Person, "a.schmitt@mail.test")
    # Audited: the survivor's change and its merge, the removal, each re-linked record.
    actions = set(
        AuditEntry.objects.values_list("action", "object_id").filter(actor=org.sales_head)
    )
    assert {
        ("contacts.person.updated", keep.pk),
        ("contacts.person.merged", keep.pk),
        ("contacts.person.deleted", gone.pk),
        ("sales.deal.updated", pair.deal.pk),
        ("sales.deal.updated", pair.referred.pk),
        ("calendar.meeting.updated", pair.meeting.pk),
    } <= actions
    assert log.pointers and log.merged_id == gone.pk


def test_undo_restores_the_record_and_moves_every_pointer_back(org, pair):
    keep, gone = pair.keep, pair.gone
    keep_before, gone_before = state(keep, row_ids=False), state(gone)
    links_before = {r: links_of(r) for r in (keep, gone, pair.acme)}
    log = merge.merge(
        PERSON, keep.pk, gone.pk, actor=org.sales_head, choices={"last_name": "merged"}
    )
    merge.undo(log.pk, actor=org.sales_head)

    restored = Person.objects.get(pk=gone.pk)
    keep = Person.objects.get(pk=keep.pk)
    assert state(keep, row_ids=False) == keep_before
    assert state(restored) == gone_before
    assert [f.name for f in restored.family.all()] == ["Tim"]
    assert Deal.objects.get(pk=pair.deal.pk).person_id == gone.pk
    assert Deal.objects.get(pk=pair.referred.pk).custom == {str(pair.field.pk): gone.pk}
    assert list(pair.meeting.people.all()) == [restored]
    assert Attachment.objects.get(pk=pair.attachment.pk).object_id == gone.pk
    assert Notification.objects.get(pk=pair.notice.pk).object_id == gone.pk
    assert {r: links_of(r) for r in (keep, restored, pair.acme)} == links_before
    assert SearchDocument.objects.filter(object_type=PERSON, object_id=gone.pk).exists()
    assert AuditEntry.objects.filter(
        action="contacts.person.merge_undone", object_id=keep.pk
    ).exists()
    assert Merge.objects.get(pk=log.pk).undone_by == org.sales_head
    with pytest.raises(Conflict):
        merge.undo(log.pk, actor=org.sales_head)


def test_companies_merge_with_their_people_and_deals(org):
    actor = org.member_a
    keep = contacts.create_company({"name": "Ромашка", "tax_id": "7701"}, actor=actor)
    gone = contacts.create_company({"name": "ООО Ромашка", "tax_id": "7701"}, actor=actor)
    worker = contacts.create_person({"first_name": "Ivan", "company_id": gone.pk}, actor=actor)
    deal = sales.create_deal(
        {"title": "Seeds", "amount": "1", "currency": "EUR", "company_id": gone.pk}, actor=actor
    )
    head = org.sales_head
    log = merge.merge("contacts.company", keep.pk, gone.pk, actor=head, choices={"name": "merged"})
    worker = Person.objects.get(pk=worker.pk)
    assert (worker.company_id, worker.company_name) == (keep.pk, "ООО Ромашка")
    assert Deal.objects.get(pk=deal.pk).company_id == keep.pk
    assert Company.objects.get(pk=keep.pk).name == "ООО Ромашка"
    merge.undo(log.pk, actor=head)
    worker = Person.objects.get(pk=worker.pk)
    assert (worker.company_id, worker.company_name) == (gone.pk, "ООО Ромашка")
    assert Company.objects.get(pk=keep.pk).name == "Ромашка"
    assert Deal.objects.get(pk=deal.pk).company_id == gone.pk


def test_a_record_changed_meanwhile_is_refused_with_a_message(org, pair):
    keep, gone = pair.keep, pair.gone
    versions = (keep.version, gone.version)
    contacts.update_person(gone, {"position": "Head buyer"}, actor=org.member_a)
    with pytest.raises(Conflict) as refused:
        merge.merge(PERSON, keep.pk, gone.pk, actor=org.sales_head, versions=versions)
    assert "changed after you opened the comparison" in str(refused.value.message)
    assert Person.objects.filter(pk=gone.pk).exists()
    log = merge.merge(PERSON, keep.pk, gone.pk, actor=org.sales_head)
    contacts.update_person(Person.objects.get(pk=keep.pk), {"position": "CEO"}, actor=org.member_a)
    with pytest.raises(Conflict) as refused:
        merge.undo(log.pk, actor=org.sales_head)
    assert "changed after the merge" in str(refused.value.message)
    assert not Person.objects.filter(pk=gone.pk).exists()


def test_merging_needs_edit_rights_on_both_and_delete_on_the_merged_one(org, pair):
    theirs = contacts.create_person({"first_name": "Anna"}, actor=org.support_member)
    with pytest.raises(NotFound):  # a record the head cannot see
        merge.merge(PERSON, pair.keep.pk, theirs.pk, actor=org.sales_head)
    with pytest.raises(NotFound):
        merge.merge(PERSON, pair.keep.pk, pair.gone.pk, actor=org.nobody)
    with pytest.raises(PermissionDenied):  # a member edits their own, deletes nothing
        merge.merge(PERSON, pair.keep.pk, pair.gone.pk, actor=org.member_a)
    assert Person.objects.filter(pk=pair.gone.pk).exists()
    log = merge.merge(PERSON, pair.keep.pk, pair.gone.pk, actor=org.sales_head)
    with pytest.raises(NotFound):
        merge.undo(log.pk, actor=org.member_c)


def test_a_merge_closes_the_pairs_of_the_merged_record(org, pair):
    Candidate.objects.create(
        object_type=PERSON,
        first_id=pair.keep.pk,
        second_id=pair.gone.pk,
        score=95,
        reasons=REASON_BITS["name"],
    )
    merge.merge(PERSON, pair.keep.pk, pair.gone.pk, actor=org.sales_head)
    assert not Candidate.objects.exists()
