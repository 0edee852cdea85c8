"""Base models and platform tables that know no business domain."""

import os

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .access import ScopedQuerySet
from .context import Channel


class BusinessRecord(models.Model):
    """A record someone owns inside a department; access, audit and locking hang on it.

    ``version`` grows by one on every write; an update that names an older version is
    refused (optimistic locking, invariant 5).
    """

    access_owner_field = "owner_id"
    access_department_field = "department_id"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        settings.KONTOR_DEPARTMENT_MODEL,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class AuditEntryQuerySet(models.QuerySet):
    def for_object(self, obj):
        return self.filter(object_type=obj._meta.label_lower, object_id=obj.pk)


class AuditEntry(models.Model):
    """Who changed what, when and through which channel; one row per create/update/delete.

    ``changes`` maps each changed field to ``[old, new]`` as JSON-safe values. The actor's
    name is copied so the row stays readable after the user is deleted.
    """

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=255, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    request_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-at"])]

    def __str__(self):
        return f"{self.action} {self.object_type}:{self.object_id}"


def attachment_path(instance, filename):
    # A fresh folder per upload: two files of one name never overwrite each other.
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{os.urandom(8).hex()}/{filename}"


class Attachment(models.Model):
    """A document attached to a record; it is visible exactly when its record is."""

    object_type = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    file = models.FileField(upload_to=attachment_path, max_length=500)
    name = models.CharField(_("name"), max_length=255)
    content_type = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return self.name


class SearchDocument(models.Model):
    """The searchable text of one record, kept current by the record's services.

    SQLite indexes ``body`` with an FTS5 trigram table, PostgreSQL with a pg_trgm GIN
    index (see migration 0002); both give prefix and substring matching.
    """

    object_type = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["object_type", "object_id"], name="search_doc_unique")
        ]

    def __str__(self):
        return f"{self.object_type}:{self.object_id}"
