"""Base models and platform tables that know no business domain."""

import os

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
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


class OutboxEvent(models.Model):
    """A domain event, written in the transaction of the change it reports.

    ``fanned_out`` turns true once the dispatcher has made the event's deliveries (one
    per subscribed handler); the catalogue of types and payloads is docs/events.md.
    """

    type = models.CharField(max_length=100)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField(default=timezone.now)
    fanned_out = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # Only the events still to fan out: the dispatcher's scan stays small.
            models.Index(fields=["id"], condition=Q(fanned_out=False), name="outbox_event_new")
        ]

    def __str__(self):
        return f"{self.type} #{self.pk}"


class OutboxDelivery(models.Model):
    """One event to one handler: run at least once, retried with backoff until done.

    A dispatcher claims a due delivery by setting ``claimed_until`` (its lease) and
    ``claim_token``; when the lease lapses (the dispatcher died) another claims it again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "handler"], name="outbox_delivery_unique")
        ]
        indexes = [
            models.Index(
                fields=["due_at", "id"],
                condition=Q(status="pending"),
                name="outbox_delivery_due",
            ),
            models.Index(fields=["status", "id"], name="outbox_delivery_status"),
        ]

    def __str__(self):
        return self.idempotency_key

    @property
    def idempotency_key(self) -> str:
        """Stable across attempts and dispatchers: a handler recognises a repeat by it."""
        return f"{self.event_id}:{self.handler}"
