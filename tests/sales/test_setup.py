"""Settings → Pipelines: who may configure, the stage list written at once, deals moved
out of a removed stage with their history, lost reasons, the settings pages and the API."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry
from kontor.sales import services, setup
from kontor.sales.models import Deal, LostReason, Pipeline, Stage, StageChange

from ..accounts.test_settings_pages import STYLESHEET, classes_used
from ..utils.clients import Api, browser

pytestmark = pytest.mark.django_db
SETTINGS_TEMPLATES = sorted(
    (Path(__file__).parents[2] / "kontor/sales/templates/sales/settings").glob("*.html")
)


def sales() -> Pipeline:
    return Pipeline.objects.get(name="Sales")


def rows_of(pipeline: Pipeline) -> list[dict]:
    """The pipeline's stages as the service takes them back."""
    return [
        {
            "id": s.pk,
            "name": s.name,
            "kind": s.kind,
            "probability": s.probability,
            "rotting_days": s.rotting_days,
            "required_fields": s.required_fields,
        }
        for s in pipeline.stages.all()
    ]


def names(pipeline: Pipeline) -> list[str]:
    return list(pipeline.stages.values_list("name", flat=True))


# -- permissions ------------------------------------------------------------------------------


def test_only_administrators_configure(org):
    assert setup.may_configure(org.admin) and setup.may_configure(org.superuser)
    assert not setup.may_configure(org.sales_head) and not setup.may_configure(org.member_a)
    for write in (
        lambda: setup.create_pipeline({"name": "Tenders", "stages": []}, actor=org.member_a),
        lambda: setup.update_pipeline(sales(), {"name": "Mine"}, actor=org.sales_head),
        lambda: setup.delete_pipeline(sales(), actor=org.member_a),
        lambda: setup.create_lost_reason({"name": "Weather"}, actor=org.member_a),
        lambda: setup.reorder_lost_reasons([], actor=org.member_a),
    ):
        with pytest.raises(PermissionDenied):
            write()
    assert sales().name == "Sales" and not LostReason.objects.filter(name="Weather").exists()


def test_the_pages_are_open_to_administrators_only(org):
    urls = [
        reverse("sales:pipeline_settings"),
        reverse("sales:pipeline_create"),
        reverse("sales:pipeline_edit", args=[sales().pk]),
        reverse("sales:pipeline_reasons"),
    ]
    for url in urls:
        assert browser(org.member_a).get(url).status_code == 404
        assert browser(org.admin).get(url).status_code == 200
    settings_home = browser(org.member_a).get(reverse("accounts:settings")).content.decode()
    assert reverse("sales:pipeline_settings") not in settings_home
    page = browser(org.admin).get(reverse("sales:pipeline_settings")).content.decode()
    assert reverse("sales:pipeline_settings") in page  # in the settings menu
    assert "Negotiation" in page and "75 %" in page and "No budget" in page


# -- pipelines and their stages ---------------------------------------------------------------


def test_a_pipeline_is_created_with_its_stages_in_order_and_audited(org):
    pipeline = setup.create_pipeline(
        {
            "name": "Tenders",
            "stages": [
                {"name": "Announced", "probability": "5", "rotting_days": "14"},
                {"name": "Bid sent", "probability": 40, "required_fields": ["source", "amount"]},
                {"name": "Awarded", "kind": "won", "probability": 100},
                {"name": "Not awarded", "kind": "lost"},
            ],
        },
        actor=org.admin,
    )
    assert pipeline.position == 1  # after "Sales"
    stages = list(pipeline.stages.all())
    assert [(s.name, s.position, s.kind, s.probability) for s in stages] == [
        ("Announced", 0, "open", 5),
        ("Bid sent", 1, "open", 40),
        ("Awarded", 2, "won", 100),
        ("Not awarded", 3, "lost", 0),
    ]
    assert stages[0].rotting_days == 14 and stages[1].rotting_days is None
    assert stages[1].required_fields == ["amount", "source"]  # in REQUIRABLE's order
    created = AuditEntry.objects.filter(action__endswith=".created", actor_id=org.admin.pk)
    assert created.filter(object_type="sales.pipeline", object_id=pipeline.pk).count() == 1
    assert created.filter(object_type="sales.stage").count() == 4


def test_bad_stages_are_refused_field_by_field_and_nothing_is_written(org):
    before = Stage.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        setup.create_pipeline(
            {
                "name": "sales",  # taken, whatever the case
                "stages": [
                    {"name": "Won", "kind": "won", "probability": 101},
                    {"name": "won", "kind": "lost", "rotting_days": 0},
                    {"name": "", "kind": "maybe", "required_fields": ["title"]},
                ],
            },
            actor=org.admin,
        )
    errors = refused.value.errors
    assert set(errors) == {
        "name",
        "stages",
        "stages.0.probability",
        "stages.1.name",
        "stages.1.rotting_days",
        "stages.2.name",
        "stages.2.kind",
        "stages.2.required_fields",
    }
    assert "open stage" in errors["stages"][0]
    assert Pipeline.objects.count() == 1 and Stage.objects.count() == before


def test_stages_are_renamed_swapped_and_reordered_at_once(org):
    pipeline = sales()
    rows = rows_of(pipeline)
    lead, qualified = rows[0], rows[1]
    lead["name"], qualified["name"] = "Qualified", "Lead"  # a swap of names
    lead["probability"], lead["rotting_days"] = 20, 7
    rows[0], rows[1] = qualified, lead
    setup.update_pipeline(pipeline, {"stages": rows}, actor=org.admin)
    stages = list(pipeline.stages.all())
    assert [s.name for s in stages][:2] == ["Lead", "Qualified"]
    assert stages[0].pk == qualified["id"] and stages[1].pk == lead["id"]
    assert (stages[1].probability, stages[1].rotting_days) == (20, 7)
    updated = AuditEntry.objects.get(object_type="sales.stage", object_id=lead["id"])
    assert updated.changes["name"] == ["Lead", "Qualified"]
    assert updated.changes["probability"] == [10, 20]


def test_removing_a_stage_that_holds_deals_names_how_many_unless_told_where(org):
    deals = [services.create_deal({"title": f"Deal {n}"}, actor=org.member_a) for n in range(3)]
    pipeline = sales()
    lead = pipeline.stages.get(name="Lead")
    kept = [row for row in rows_of(pipeline) if row["name"] != "Lead"]
    with pytest.raises(ValidationFailed) as refused:
        setup.update_pipeline(pipeline, {"stages": kept}, actor=org.admin)
    message = refused.value.errors[f"move_deals.{lead.pk}"][0]
    assert "Lead" in message and "3 deals" in message
    assert Stage.objects.filter(pk=lead.pk).exists()
    with pytest.raises(ValidationFailed) as elsewhere:
        other = Stage.objects.exclude(pipeline=pipeline).first() or lead
        setup.update_pipeline(
            pipeline, {"stages": kept, "move_deals": {lead.pk: other.pk}}, actor=org.admin
        )
    assert f"move_deals.{lead.pk}" in elsewhere.value.errors

    qualified = pipeline.stages.get(name="Qualified")
    setup.update_pipeline(
        pipeline, {"stages": kept, "move_deals": {str(lead.pk): qualified.pk}}, actor=org.admin
    )
    assert not Stage.objects.filter(pk=lead.pk).exists()
    for deal in deals:
        moved = Deal.objects.get(pk=deal.pk)
        assert moved.stage == qualified and moved.version == deal.version + 1
        assert moved.stage_entered_at > deal.stage_entered_at and moved.closed_at is None
        last = StageChange.objects.filter(deal=deal).order_by("-moved_at", "-id").first()
        assert last.to_stage == qualified and last.moved_by == org.admin
    assert StageChange.objects.filter(to_stage=qualified, moved_by=org.admin).count() == 3
    audited = AuditEntry.objects.filter(object_type="sales.deal", action="sales.deal.updated")
    assert audited.count() == 3 and audited.first().changes["stage_id"][1] == qualified.pk
    assert AuditEntry.objects.filter(action="sales.stage.deleted", object_id=lead.pk).exists()


def test_deals_moved_into_a_won_stage_are_closed(org):
    deal = services.create_deal({"title": "Fence"}, actor=org.member_a)
    pipeline = sales()
    lead, won = pipeline.stages.get(name="Lead"), pipeline.stages.get(name="Won")
    kept = [row for row in rows_of(pipeline) if row["id"] != lead.pk]
    setup.update_pipeline(
        pipeline, {"stages": kept, "move_deals": {lead.pk: won.pk}}, actor=org.admin
    )
    closed = Deal.objects.get(pk=deal.pk)
    assert closed.stage == won and closed.closed_at == closed.stage_entered_at


def test_an_empty_stage_goes_without_asking_and_a_pipeline_with_deals_is_only_deactivated(org):
    pipeline = sales()
    setup.update_pipeline(
        pipeline,
        {"stages": [r for r in rows_of(pipeline) if r["name"] != "Negotiation"]},
        actor=org.admin,
    )
    assert names(pipeline) == ["Lead", "Qualified", "Proposal", "Won", "Lost"]
    services.create_deal({"title": "Gate"}, actor=org.member_a)
    with pytest.raises(ValidationFailed) as refused:
        setup.delete_pipeline(pipeline, actor=org.admin)
    assert "1 deal" in refused.value.message
    setup.update_pipeline(pipeline, {"is_active": False}, actor=org.admin)
    assert not Pipeline.objects.get(pk=pipeline.pk).is_active
    empty = setup.create_pipeline({"name": "Spare", "stages": [{"name": "New"}]}, actor=org.admin)
    empty_id = empty.pk
    setup.delete_pipeline(empty, actor=org.admin)
    assert not Pipeline.objects.filter(pk=empty_id).exists()
    assert AuditEntry.objects.filter(action="sales.pipeline.deleted", object_id=empty_id).exists()


def test_pipelines_are_reordered_with_every_id_once(org):
    tenders = setup.create_pipeline({"name": "Tenders", "stages": [{"name": "A"}]}, actor=org.admin)
    with pytest.raises(ValidationFailed):
        setup.reorder_pipelines([tenders.pk], actor=org.admin)
    setup.reorder_pipelines([tenders.pk, sales().pk], actor=org.admin)
    assert list(Pipeline.objects.values_list("name", flat=True)) == ["Tenders", "Sales"]
    assert services.default_pipeline() == tenders


# -- lost reasons -------------------------------------------------------------------------------


def test_lost_reasons_are_added_renamed_deactivated_and_never_deleted_when_used(org):
    weather = setup.create_lost_reason({"name": "Weather"}, actor=org.admin)
    assert weather.position == LostReason.objects.count() - 1
    with pytest.raises(ValidationFailed) as refused:
        setup.create_lost_reason({"name": "price"}, actor=org.admin)
    assert "name" in refused.value.errors
    price = LostReason.objects.get(name="Price")
    deal = services.create_deal({"title": "Shed"}, actor=org.member_a)
    lost = sales().stages.get(name="Lost")
    services.move_deal(
        deal, lost.pk, actor=org.member_a, expected_version=1, lost_reason_id=price.pk
    )
    with pytest.raises(ValidationFailed):
        setup.delete_lost_reason(price, actor=org.admin)
    setup.update_lost_reason(price, {"name": "Too expensive", "is_active": False}, actor=org.admin)
    assert Deal.objects.get(pk=deal.pk).lost_reason.name == "Too expensive"
    setup.delete_lost_reason(weather, actor=org.admin)
    actions = set(
        AuditEntry.objects.filter(object_type="sales.lostreason").values_list("action", flat=True)
    )
    assert actions == {
        "sales.lostreason.created",
        "sales.lostreason.updated",
        "sales.lostreason.deleted",
    }


# -- settings pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("template", SETTINGS_TEMPLATES, ids=lambda p: p.name)
def test_every_class_in_the_pipeline_settings_templates_is_styled(template):
    defined = set(re.findall(r"\.([a-zA-Z][\w-]*)", STYLESHEET.read_text()))
    assert not classes_used(template.read_text()) - defined


def form_of(pipeline: Pipeline) -> dict:
    """The edit form as the page posts it back, unchanged."""
    data = {"name": pipeline.name, "is_active": "1", "stages-count": pipeline.stages.count()}
    for index, stage in enumerate(pipeline.stages.all()):
        prefix = f"stages-{index}-"
        data |= {
            prefix + "id": stage.pk,
            prefix + "name": stage.name,
            prefix + "kind": stage.kind,
            prefix + "probability": stage.probability,
            prefix + "rotting_days": stage.rotting_days or "",
        }
    return data


def test_the_form_adds_and_moves_rows_without_saving_then_saves(org):
    client = browser(org.admin)
    url = reverse("sales:pipeline_edit", args=[sales().pk])
    data = form_of(sales())
    added = client.post(url, {**data, "action": "add"})
    assert added.status_code == 200 and added.content.decode().count('data-testid="stage-row"') == 7
    moved = client.post(url, {**data, "action": "down-0"}).content.decode()
    assert moved.index('value="Qualified"') < moved.index('value="Lead"')
    assert names(sales())[0] == "Lead"  # nothing saved yet

    data |= {
        "stages-count": 7,
        "stages-6-name": "Contract",
        "stages-6-kind": "open",
        "stages-6-probability": "90",
        "stages-6-required_fields": ["amount", "company"],
        "stages-3-remove": "1",  # Negotiation, empty
        "action": "save",
    }
    saved = client.post(url, data)
    assert saved.status_code == 302 and saved.url == reverse("sales:pipeline_settings")
    assert names(sales()) == ["Lead", "Qualified", "Proposal", "Won", "Lost", "Contract"]
    assert sales().stages.get(name="Contract").required_fields == ["amount", "company"]


def test_the_form_shows_errors_beside_their_rows(org):
    services.create_deal({"title": "Porch"}, actor=org.member_a)
    client = browser(org.admin)
    url = reverse("sales:pipeline_edit", args=[sales().pk])
    data = form_of(sales()) | {"stages-1-probability": "150", "stages-0-remove": "1"}
    refused = client.post(url, data)
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "Enter a whole number from 0 to 100." in page
    assert "still holds 1 deal" in page and 'id="id_stages-0-move_to"' in page
    qualified = sales().stages.get(name="Qualified")
    data |= {"stages-1-probability": "30", "stages-0-move_to": qualified.pk}
    assert client.post(url, data).status_code == 302
    assert names(sales())[0] == "Qualified" and Deal.objects.get().stage == qualified


def test_a_new_pipeline_from_the_page_and_the_empty_state(org):
    Pipeline.objects.all().delete()
    client = browser(org.admin)
    empty = client.get(reverse("sales:pipeline_settings")).content.decode()
    assert "No pipelines yet" in empty
    url = reverse("sales:pipeline_create")
    refused = client.post(
        url, {"name": "", "stages-count": 1, "stages-0-name": "Won", "stages-0-kind": "won"}
    )
    assert refused.status_code == 422 and "at least one open stage" in refused.content.decode()
    saved = client.post(
        url, {"name": "Retail", "is_active": "1", "stages-count": 1, "stages-0-name": "New"}
    )
    assert saved.status_code == 302 and names(Pipeline.objects.get(name="Retail")) == ["New"]


def test_the_lost_reasons_editor_saves_adds_orders_and_deletes(org):
    client = browser(org.admin)
    url = reverse("sales:pipeline_reasons")
    reasons = list(LostReason.objects.all())
    data = {f"reason-{r.pk}-name": r.name for r in reasons}
    data |= {f"reason-{r.pk}-is_active": "1" for r in reasons[1:]}
    data |= {"new_name": "Timing", "action": "save"}
    assert client.post(url, data).status_code == 302
    assert not LostReason.objects.get(pk=reasons[0].pk).is_active
    assert LostReason.objects.last().name == "Timing"
    refused = client.post(url, {**data, "new_name": "timing"})
    assert refused.status_code == 422 and "exists already" in refused.content.decode()
    client.post(url, {"action": f"up-{reasons[1].pk}"})
    assert LostReason.objects.first() == reasons[1]
    client.post(url, {"action": f"delete-{reasons[2].pk}"})
    assert not LostReason.objects.filter(pk=reasons[2].pk).exists()


# -- API ---------------------------------------------------------------------------------------


def test_everyone_reads_pipelines_and_lost_reasons(org):
    body = Api(org.member_a).get("/pipelines").json()
    assert [p["name"] for p in body] == ["Sales"]
    stage = body[0]["stages"][3]
    assert stage == {
        "id": Stage.objects.get(name="Negotiation").pk,
        "name": "Negotiation",
        "position": 3,
        "kind": "open",
        "probability": 75,
        "rotting_days": None,
        "required_fields": [],
    }
    reasons = Api(org.member_a).get("/lost-reasons").json()
    assert reasons[0] == {
        "id": LostReason.objects.get(name="Price").pk,
        "name": "Price",
        "position": 0,
        "is_active": True,
    }
    assert Api().get("/pipelines").status_code == 401


def test_api_writes_for_administrators_only_with_field_errors(org):
    member, admin = Api(org.member_a), Api(org.admin)
    pipeline_id = sales().pk
    body = {"name": "Tenders", "stages": [{"name": "Bid", "probability": 30}]}
    assert member.post("/pipelines", body).status_code == 403
    assert member.patch(f"/pipelines/{pipeline_id}", {"name": "X"}).status_code == 403
    assert member.delete(f"/pipelines/{pipeline_id}").status_code == 403
    assert member.post("/lost-reasons", {"name": "Weather"}).status_code == 403
    assert admin.patch("/pipelines/987654", {"name": "X"}).status_code == 404

    created = admin.post("/pipelines", body)
    assert created.status_code == 201
    assert created.json()["stages"][0]["probability"] == 30
    bad = admin.patch(
        f"/pipelines/{created.json()['id']}",
        {"stages": [{"name": "Bid", "probability": 130}, {"name": "Bid"}]},
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"stages.0.probability", "stages.1.name"}
    assert admin.post("/pipelines", {"name": "Bad", "stages": [], "extra": 1}).status_code == 422

    services.create_deal({"title": "Hall"}, actor=org.member_a)
    lead = Stage.objects.get(name="Lead")
    kept = [{k: v for k, v in row.items()} for row in rows_of(sales()) if row["id"] != lead.pk]
    refused = admin.patch(f"/pipelines/{pipeline_id}", {"stages": kept})
    assert refused.status_code == 422 and f"move_deals.{lead.pk}" in refused.json()["errors"]
    target = kept[0]["id"]
    moved = admin.patch(
        f"/pipelines/{pipeline_id}", {"stages": kept, "move_deals": {str(lead.pk): target}}
    )
    assert (
        moved.status_code == 200 and [s["name"] for s in moved.json()["stages"]][0] == "Qualified"
    )
    assert admin.delete(f"/pipelines/{pipeline_id}").status_code == 422

    reason = admin.post("/lost-reasons", {"name": "Weather"}).json()
    renamed = admin.patch(f"/lost-reasons/{reason['id']}", {"name": "Rain", "is_active": False})
    assert renamed.json()["name"] == "Rain" and renamed.json()["is_active"] is False
    ids = [r["id"] for r in admin.get("/lost-reasons").json()][::-1]
    assert admin.post("/lost-reasons/order", {"ids": ids}).status_code == 204
    assert admin.get("/lost-reasons").json()[0]["name"] == "Rain"
    assert admin.delete(f"/lost-reasons/{reason['id']}").status_code == 204
