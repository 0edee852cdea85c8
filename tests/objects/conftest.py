import pytest

from kontor.core import types
from kontor.objects import registry, services
from kontor.objects.models import CustomRecord, ObjectTypeDefinition


@pytest.fixture
def define_type(org):
    """Define custom object types for a test; they leave the registry when it ends
    (the rollback removes the rows, but a process keeps its types until it syncs)."""

    def define(slug: str, singular: str, plural: str, **extra):
        services.create_definition(
            {"slug": slug, "singular": singular, "plural": plural, **extra}, actor=org.admin
        )
        return types.get(f"objects.{slug}")

    yield define
    CustomRecord.objects.all().delete()
    ObjectTypeDefinition.objects.all().delete()
    registry.sync(force=True)
