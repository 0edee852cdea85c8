"""Custom objects: record types an administrator defines in the browser.

A definition (``ObjectTypeDefinition``) names the type; its records live in one table
(``CustomRecord``). Each live definition becomes, at run time, a proxy model of
``CustomRecord`` labelled ``objects.<slug>`` (``kontor.objects.registry``), so every part
of the engine that names a type by its model label (grants, audit, search documents,
attachments, events) treats a custom object exactly like a built-in one.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kontor.core.access import ScopedQuerySet
from kontor.core.models import BusinessRecord

SLUG_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"


class ObjectTypeDefinition(models.Model):
    """A record type defined by an administrator: its names, and whether it is archived."""

    # Placed nowhere: only an "all" scope on objects.objecttypedefinition reaches it.
    access_owner_field = None
    access_department_field = None

    slug = models.CharField(
        _("API name"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                SLUG_PATTERN,
                _("Use 2-40 lowercase Latin letters, digits and _, starting with a letter."),
            )
        ],
        help_text=_("Used in addresses and the API: construction_site. It cannot change later."),
    )
    singular = models.CharField(_("name"), max_length=100)
    plural = models.CharField(_("plural name"), max_length=100)
    icon = models.CharField(
        _("icon"), max_length=8, blank=True, help_text=_("One emoji, optional.")
    )
    description = models.TextField(_("description"), blank=True)
    # An archived type keeps its records but leaves menus, search and the API.
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["plural", "id"]
        verbose_name = _("object type")
        verbose_name_plural = _("object types")

    def __str__(self):
        return self.plural

    @property
    def object_type(self) -> str:
        return f"objects.{self.slug}"


class CustomRecord(BusinessRecord):
    """One record of a custom object type. Its own fields are custom field values."""

    definition = models.ForeignKey(
        ObjectTypeDefinition, on_delete=models.PROTECT, related_name="records", editable=False
    )
    name = models.CharField(_("name"), max_length=255)
    notes = models.TextField(_("notes"), blank=True)
    name_fields = ("name",)  # what ``str()`` reads (core.types.select_names)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("record")
        verbose_name_plural = _("records")
        indexes = [
            models.Index(fields=["definition", "name", "id"]),
            models.Index(fields=["definition", "department", "name"]),
            models.Index(fields=["definition", "owner", "name"]),
            models.Index(fields=["definition", "created_at", "id"]),
            models.Index(fields=["definition", "updated_at", "id"]),
        ]

    def __str__(self):
        return self.name

    def search_text(self) -> str:
        return " ".join([self.name])

    def audit_snapshot(self) -> dict:
        return {
            "name": self.name,
            "notes": self.notes,
            "owner_id": self.owner_id,
            "department_id": self.department_id,
        }
