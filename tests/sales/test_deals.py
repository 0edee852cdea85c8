"""Deals: stages entered only with what they require, every move kept, two movers of
one card never overwrite each other, and the deal on its client's timelines."""

from decimal import Decimal

import pytest

from kontor.contacts import services as contacts
from kontor.core import timeline
from kontor.core.errors import Conflict, ValidationFailed
from kontor.sales import services
from kontor.sales.models import Deal, LostReason, Pipeline, Stage, StageChange

from ..utils.clients import Api, browser

pytestmark = pytest.mark.django_db


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__name="Sales", name=name)


def test_a_new_deal_starts_in_the_first_stage_and_its_move_is_kept(org):
    deal = services.create_deal({"title": "Roof for the school"}, actor=org.member_a)
    assert deal.pipeline.name == "Sales" and deal.stage.name == "Lead"
    assert deal.currency == "EUR" and deal.amount == Decimal("0.00")
    first = StageChange.objects.get(deal=deal)
    assert first.from_stage is None and first.to_stage == stage("Lead")
    assert first.moved_by == org.member_a


def test_moves_are_kept_in_order_and_won_or_lost_closes_the_deal(org):
    deal = services.create_deal({"title": "Cement", "amount": "900"}, actor=org.member_a)
    deal = services.move_deal(
        deal, stage("Proposal").pk, actor=org.member_a, expected_version=deal.version
    )
    assert deal.closed_at is None
    deal = services.move_deal(
        deal, stage("Won").pk, actor=org.sales_head, expected_version=deal.version
    )
    assert deal.closed_at is not None and deal.stage_entered_at == deal.closed_at
    reopened = services.move_deal(
        deal, stage("Negotiation").pk, actor=org.member_a, expected_version=deal.version
    )
    assert reopened.closed_at is None
    moves = [
        (c.from_stage.name if c.from_stage else None, c.to_stage.name, c.moved_by.email)
        for c in StageChange.objects.filter(deal=deal).order_by("moved_at", "id")
    ]
    assert moves == [
        (None, "Lead", "anna@example.com"),
        ("Lead", "Proposal", "anna@example.com"),
        ("Proposal", "Won", "head@example.com"),
        ("Won", "Negotiation", "anna@example.com"),
    ]


def test_a_stage_refuses_a_deal_without_its_required_fields(org):
    proposal = stage("Proposal")
    proposal.required_fields = ["amount", "expected_close", "company"]
    proposal.save()
    deal = services.create_deal({"title": "Bricks"}, actor=org.member_a)
    with pytest.raises(ValidationFailed) as refused:
        services.move_deal(deal, proposal.pk, actor=org.member_a, expected_version=deal.version)
    assert set(refused.value.errors) == {"amount", "expected_close", "company_id"}
    assert "Proposal" in refused.value.errors["amount"][0]
    assert Deal.objects.get(pk=deal.pk).stage.name == "Lead"  # nothing written
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_losing_a_deal_needs_a_reason_while_reasons_are_kept(org):
    deal = services.create_deal({"title": "Tiles"}, actor=org.member_a)
    with pytest.raises(ValidationFailed) as refused:
        services.move_deal(deal, stage("Lost").pk, actor=org.member_a, expected_version=1)
    assert "lost_reason_id" in refused.value.errors
    price = LostReason.objects.get(name="Price")
    lost = services.move_deal(
        deal, stage("Lost").pk, actor=org.member_a, expected_version=1, lost_reason_id=price.pk
    )
    assert lost.lost_reason == price and lost.closed_at is not None
    LostReason.objects.update(is_active=False)
    other = services.create_deal({"title": "Sand"}, actor=org.member_a)
    assert services.move_deal(
        other, stage("Lost").pk, actor=org.member_a, expected_version=1
    ).closed_at


def test_the_second_of_two_moves_from_one_board_is_refused(org):
    deal = services.create_deal({"title": "Rebar"}, actor=org.member_a)
    seen = deal.version
    services.move_deal(
        Deal.objects.get(pk=deal.pk),
        stage("Qualified").pk,
        actor=org.sales_head,
        expected_version=seen,
    )
    with pytest.raises(Conflict):
        services.move_deal(
            Deal.objects.get(pk=deal.pk),
            stage("Proposal").pk,
            actor=org.member_a,
            expected_version=seen,
        )
    assert Deal.objects.get(pk=deal.pk).stage.name == "Qualified"


def test_a_stage_of_another_pipeline_and_unknown_clients_are_refused(org):
    other = Pipeline.objects.create(name="Tenders", position=1)
    bid = Stage.objects.create(pipeline=other, name="Bid", position=0)
    hidden = contacts.create_company({"name": "Hidden GmbH"}, actor=org.support_member)
    with pytest.raises(ValidationFailed) as refused:
        services.create_deal(
            {
                "title": "X",
                "pipeline_id": Pipeline.objects.get(name="Sales").pk,
                "stage_id": bid.pk,
                "company_id": hidden.pk,
                "amount": "12.345",
                "currency": "XYZ",
            },
            actor=org.member_a,
        )
    assert set(refused.value.errors) == {"stage_id", "company_id", "amount", "currency"}
    assert refused.value.errors["company_id"] == ["Unknown company."]
    deal = services.create_deal({"title": "Tender", "pipeline_id": other.pk}, actor=org.member_a)
    assert deal.stage == bid


def test_a_deal_is_on_its_clients_timelines_and_what_is_about_it_too(org):
    from kontor.activities import services as activities

    acme = contacts.create_company({"name": "Acme Bau"}, actor=org.member_a)
    anna = contacts.create_person(
        {"first_name": "Anna", "last_name": "Berg", "company_id": acme.pk}, actor=org.member_a
    )
    deal = services.create_deal(
        {"title": "Warehouse roof", "person_id": anna.pk}, actor=org.member_a
    )
    task = activities.create_task(
        {"title": "Send the offer", "links": [f"deal:{deal.pk}"]}, actor=org.member_a
    )

    def titles(record):
        return [str(e.obj) for e in timeline.feed(org.member_a, record).entries]

    assert titles(anna) == ["Send the offer", "Warehouse roof"]
    # The deal is on Anna's company's timeline through her; what is about the deal is on
    # the timelines the deal names itself (its company and contact person), not further.
    assert titles(acme) == ["Warehouse roof"]
    assert titles(deal) == ["Send the offer"]
    # The deal moves to another company: it and what is about it follow.
    other = contacts.create_company({"name": "Other AG"}, actor=org.member_a)
    services.update_deal(deal, {"person_id": None, "company_id": other.pk}, actor=org.member_a)
    assert titles(anna) == [] and titles(acme) == []
    assert titles(other) == ["Send the offer", "Warehouse roof"]
    assert task.pk in [e.obj.pk for e in timeline.feed(org.member_a, other).entries]


def test_the_api_and_the_page_show_the_stage_and_its_history(org):
    api = Api(org.member_a)
    made = api.post("/deals", {"title": "Facade", "amount": "4200.50", "currency": "EUR"})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["stage"]["name"] == "Lead" and body["amount"] == "4200.50"
    patched = api.patch(
        f"/deals/{body['id']}", {"stage_id": stage("Proposal").pk, "version": body["version"]}
    )
    assert patched.status_code == 200 and patched.json()["stage"]["name"] == "Proposal"
    stale = api.patch(
        f"/deals/{body['id']}", {"stage_id": stage("Won").pk, "version": body["version"]}
    )
    assert stale.status_code == 409
    page = browser(org.member_a).get(f"/deals/{body['id']}/").content.decode()
    assert "Lead → Proposal" in page
    assert browser(org.support_member).get(f"/deals/{body['id']}/").status_code == 404
