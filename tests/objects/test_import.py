"""A custom object type imports through the generic bulk import like a built-in type."""

import pytest

from kontor.core import bulk, events, search
from kontor.core.errors import ValidationFailed
from kontor.core.models import AuditEntry, SearchDocument
from kontor.objects.models import CustomRecord


@pytest.fixture
def site_type(define_type):
    return define_type("construction_site", "construction site", "construction sites")


def test_a_custom_object_type_imports_with_the_single_writes_rules(org, site_type):
    seen = []
    events.subscribe("objects.construction_site.created", seen.append, name="test.import.seen")
    rows = [
        {"name": "  Riverside tower  ", "notes": "phase 1"},
        {"name": ""},
        {"name": "Theirs", "department_id": org.dept.support.pk},
        {"name": "x" * 256},
        {"name": "Depot"},
    ]
    try:
        result = bulk.import_rows(site_type, rows, actor=org.sales_head, batch_size=2)
        events.deliver_pending()
    finally:
        events.unsubscribe("test.import.seen")

    imported = {}
    for error in result.errors:
        imported.setdefault(error.row, {}).setdefault(error.field, []).append(error.message)
    for number in (2, 4):
        with pytest.raises(ValidationFailed) as refused:
            site_type.create(rows[number - 1], actor=org.sales_head)
        assert imported[number] == refused.value.errors
    assert list(imported[3]) == ["department_id"]  # a row out of scope: skipped, not a 403
    assert result.created == 2
    riverside, depot = (CustomRecord.objects.get(pk=pk) for pk in result.ids)
    assert riverside.name == "Riverside tower"  # cleaned as a single write cleans it
    assert riverside.definition.slug == depot.definition.slug == "construction_site"
    assert (riverside.owner, riverside.department) == (org.sales_head, org.dept.sales)
    entry = AuditEntry.objects.get(object_type="objects.construction_site", object_id=riverside.pk)
    assert (entry.action, entry.channel) == ("objects.construction_site.created", "import")
    assert entry.changes["name"] == [None, "Riverside tower"]
    assert (
        SearchDocument.objects.filter(
            object_type="objects.construction_site", object_id__in=result.ids
        ).count()
        == 2
    )
    found = search.search_model(org.sales_head, site_type.model, "riverside")
    assert [r.pk for r in found] == [riverside.pk]
    assert [e.payload["object_id"] for e in seen] == result.ids
    assert seen[0].payload["changes"] == entry.changes
