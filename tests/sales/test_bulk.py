"""A bulk import of deals writes what ``create_deal`` writes, row for row; with a
``history`` it keeps the deal's past moves instead of the one entry into its stage."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from kontor.contacts import services as contacts
from kontor.core.bulk import import_rows
from kontor.core.models import AuditEntry, OutboxEvent, SearchDocument, TimelineLink
from kontor.sales import services
from kontor.sales.models import Deal, LostReason, Stage, StageChange
from kontor.sales.types import DEAL

pytestmark = pytest.mark.django_db


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__name="Sales", name=name)


MOMENTS = ("stage_entered_at", "closed_at")


def without_moments(changes: dict) -> dict:
    """Audit changes with each moment's value replaced by whether it is set."""
    return {k: (v[1] is not None if k in MOMENTS else v) for k, v in changes.items()}


def written(deal: Deal) -> dict:
    """Every row a new deal leaves, without ids and moments."""
    deal = Deal.objects.get(pk=deal.pk)
    own = {
        f.attname: getattr(deal, f.attname)
        for f in Deal._meta.concrete_fields
        if f.attname not in ("id", "created_at", "updated_at", "stage_entered_at", "closed_at")
    }
    own["closed"] = deal.closed_at is not None
    own["tags"] = sorted(deal.tags.values_list("name", flat=True))
    entry = AuditEntry.objects.get(object_type="sales.deal", object_id=deal.pk)
    changes = without_moments(entry.changes)
    event = OutboxEvent.objects.get(type="sales.deal.created", payload__object_id=deal.pk)
    payload = {k: v for k, v in event.payload.items() if k != "object_id"}
    payload["changes"] = without_moments(payload["changes"])
    return {
        "deal": own,
        "moves": list(
            StageChange.objects.filter(deal=deal).values_list(
                "pipeline_id", "from_stage_id", "to_stage_id", "moved_by_id"
            )
        ),
        "timeline": sorted(
            TimelineLink.objects.filter(entry_type="sales.deal", entry_id=deal.pk).values_list(
                "subject_type", "subject_id", "direct", "owner_id", "department_id"
            )
        ),
        "moment_is_opening": set(
            TimelineLink.objects.filter(entry_type="sales.deal", entry_id=deal.pk).values_list(
                "occurred_at", flat=True
            )
        )
        == {deal.created_at},
        "search": SearchDocument.objects.get(object_type="sales.deal", object_id=deal.pk).body,
        "audit": (entry.action, entry.actor_id, entry.object_repr, changes),
        "event": payload,
    }


@pytest.fixture
def client_rows(org):
    acme = contacts.create_company({"name": "Acme Bau"}, actor=org.member_a)
    anna = contacts.create_person(
        {"first_name": "Anna", "last_name": "Berg", "company_id": acme.pk}, actor=org.member_a
    )
    return {
        "title": "Roof for the school",
        "amount": "12500.50",
        "currency": "EUR",
        "expected_close": "2026-03-01",
        "company_id": acme.pk,
        "person_id": anna.pk,
        "source": "referral",
        "notes": "Wants delivery in two parts",
        "tags": ["key account", "roof"],
        "stage_id": stage("Proposal").pk,
    }


def test_an_imported_deal_is_written_as_create_deal_writes_it(org, client_rows):
    single = services.create_deal(client_rows, actor=org.member_a)

    result = import_rows(DEAL, [client_rows], actor=org.member_a)

    assert result.errors == [] and result.created == 1
    imported = Deal.objects.get(pk=result.ids[0])
    assert written(imported) == written(single)
    assert written(single)["timeline"] == sorted(
        [
            (
                "contacts.company",
                client_rows["company_id"],
                True,
                org.member_a.pk,
                org.dept.team1.pk,
            ),
            ("contacts.person", client_rows["person_id"], True, org.member_a.pk, org.dept.team1.pk),
        ]
    )
    assert imported.amount == Decimal("12500.50") and imported.closed_at is None


def test_an_imported_lost_deal_needs_a_reason_and_is_closed(org, client_rows):
    lost = {**client_rows, "stage_id": stage("Lost").pk}
    price = LostReason.objects.get(name="Price")

    result = import_rows(DEAL, [lost, {**lost, "lost_reason_id": price.pk}], actor=org.member_a)

    assert [(e.row, e.field) for e in result.errors] == [(1, "lost_reason_id")]
    deal = Deal.objects.get(pk=result.ids[0])
    assert deal.lost_reason == price and deal.closed_at == deal.stage_entered_at
    single = services.create_deal({**lost, "lost_reason_id": price.pk}, actor=org.member_a)
    assert written(deal) == written(single)


def test_an_import_refuses_what_a_single_write_refuses(org, client_rows):
    hidden = contacts.create_company({"name": "Hidden GmbH"}, actor=org.support_member)
    proposal = stage("Proposal")
    proposal.required_fields = ["expected_close"]
    proposal.save()
    rows = [
        {**client_rows, "company_id": hidden.pk},
        {**client_rows, "expected_close": ""},
        {**client_rows, "currency": "XXX"},
        {**client_rows, "stage_id": 999999},
    ]

    result = import_rows(DEAL, rows, actor=org.member_a)

    fields = {(e.row, e.field) for e in result.errors}
    assert {(1, "company_id"), (2, "expected_close"), (3, "currency"), (4, "stage_id")} <= fields
    assert result.created == 0 and not Deal.objects.exists()
    with pytest.raises(Exception) as refused:
        services.create_deal({**client_rows, "expected_close": ""}, actor=org.member_a)
    assert "expected_close" in refused.value.errors


def test_a_history_becomes_the_deals_moves_by_its_owner(org, client_rows):
    now = timezone.now()
    days = [now - datetime.timedelta(days=n) for n in (40, 30, 31)]
    price = LostReason.objects.get(name="Price")
    history = [
        (stage("Lead").pk, days[0]),
        (stage("Proposal").pk, days[2]),
        (stage("Qualified").pk, days[1]),
        (stage("Lost").pk, now - datetime.timedelta(days=2)),
    ]
    row = {**client_rows, "stage_id": None, "lost_reason_id": price.pk, "history": history}

    result = import_rows(DEAL, [row], actor=org.sales_head)

    assert result.errors == []
    deal = Deal.objects.get(pk=result.ids[0])
    assert deal.stage.name == "Lost" and deal.closed_at == history[-1][1]
    assert deal.stage_entered_at == deal.closed_at and deal.lost_reason == price
    moves = list(
        StageChange.objects.filter(deal=deal).values_list(
            "from_stage__name", "to_stage__name", "moved_at", "moved_by_id"
        )
    )
    assert moves == [
        (None, "Lead", days[0], org.sales_head.pk),
        ("Lead", "Proposal", days[2], org.sales_head.pk),
        ("Proposal", "Qualified", days[1], org.sales_head.pk),
        ("Qualified", "Lost", history[-1][1], org.sales_head.pk),
    ]


def test_a_history_out_of_order_or_ahead_is_refused(org, client_rows):
    now = timezone.now()
    lead, won = stage("Lead").pk, stage("Won").pk
    base = {k: v for k, v in client_rows.items() if k != "stage_id"}
    rows = [
        {
            **base,
            "history": [
                (lead, now - datetime.timedelta(days=1)),
                (won, now - datetime.timedelta(days=2)),
            ],
        },
        {**base, "history": [(lead, now + datetime.timedelta(days=1))]},
        {**base, "history": [(lead, "yesterday")]},
        {**base, "history": [(lead, now - datetime.timedelta(days=1))], "pipeline_id": 999},
        {**base, "history": [(lead, now - datetime.timedelta(days=1))], "stage_id": won},
    ]

    result = import_rows(DEAL, rows, actor=org.member_a)

    assert {(e.row, e.field) for e in result.errors} >= {
        (1, "history"),
        (2, "history"),
        (3, "history"),
        (5, "history"),
    }
    assert ("stage_id" in {e.field for e in result.errors if e.row == 4}) and (
        "history" not in {e.field for e in result.errors if e.row == 4}
    )
    assert result.created == 0
