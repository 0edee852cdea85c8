"""Base models and platform tables that know no business domain."""

import os

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .access import ScopedQuerySet
from .context import Channel
from .jsonnumbers import CustomValuesField


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
    # Custom field values by field id ("12": value); see kontor.core.customfields.
    custom = CustomValuesField(default=dict, blank=True, editable=False)

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


class Timer(models.Model):
    """Something to do at a moment, done exactly once (kontor.core.timers).

    ``kind`` names its handler, ``object_type`` and ``object_id`` the record it is about
    (a task's reminder), ``name`` tells apart the timers of one kind on one record. A
    worker claims a due timer with a lease like an outbox delivery; its firing is one
    transaction that writes the handler's effects and a ``TimerFiring`` row unique on
    (timer, occurrence). Moving a timer starts a new occurrence.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        FIRED = "fired", _("fired")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    name = models.CharField(max_length=50, blank=True)
    due_at = models.DateTimeField()
    occurrence = models.PositiveIntegerField(default=1)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_type", "object_id", "name"], name="timer_unique"
            )
        ]
        indexes = [
            models.Index(fields=["due_at", "id"], condition=Q(status="pending"), name="timer_due"),
            models.Index(fields=["object_type", "object_id"], name="timer_about"),
        ]

    def __str__(self):
        return f"{self.kind} {self.object_type}:{self.object_id} {self.name}".rstrip()


class TimerFiring(models.Model):
    """The ledger of firings: one row per (timer, occurrence), written with the effects."""

    timer = models.ForeignKey(Timer, on_delete=models.CASCADE, related_name="firings")
    occurrence = models.PositiveIntegerField()
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["timer", "occurrence"], name="timer_firing_unique")
        ]

    def __str__(self):
        return f"{self.timer_id}#{self.occurrence}"


class TimelineLink(models.Model):
    """An entry (a note, call, email, meeting, task) on the timeline of a record it is about
    or of that record's parent (a person's company).

    One row per (entry, record); the entry's moment and placement are copied here, so that
    a record's timeline is one walk of an index, scoped by the entry type's grants on these
    columns like a record's own (``core.timeline``).
    """

    entry_type = models.CharField(max_length=100)
    entry_id = models.BigIntegerField()
    subject_type = models.CharField(max_length=100)
    subject_id = models.BigIntegerField()
    # False: the entry is about a record of this one's (a person at this company), so it
    # is on this record's timeline too (``RecordType.timeline_parents``).
    direct = models.BooleanField(default=True)
    occurred_at = models.DateTimeField()
    owner_id = models.BigIntegerField(null=True)
    department_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entry_type", "entry_id", "subject_type", "subject_id"],
                name="timeline_link_unique",
            )
        ]
        indexes = [
            models.Index(
                fields=["subject_type", "subject_id", "-occurred_at", "-entry_id", "-entry_type"],
                name="timeline_of_subject",
            )
        ]

    def __str__(self):
        return f"{self.entry_type}#{self.entry_id} on {self.subject_type}#{self.subject_id}"


def _value_field(verbose_name):
    """A JSON column holding one custom value (a default or a bound), typed as values are."""
    return CustomValuesField(verbose_name, null=True, blank=True)


class CustomFieldQuerySet(ScopedQuerySet):
    def visible_to(self, user, action: str = "view", *, sorted_page: bool = False):
        """Definitions are read (their history included) by whoever manages fields, and by
        nobody else: a definition names a field some readers may not know of."""
        from .customfields.registry import may_manage_fields

        return self if may_manage_fields(user) else self.none()


class CustomField(models.Model):
    """An admin-defined field of one object type; values live in the records' ``custom``.

    Records store a value under the field's id (``"12"``), so renaming the label or API
    name never touches data. See kontor.core.customfields for kinds and rules.
    """

    access_owner_field = None
    access_department_field = None

    object_type = models.CharField(_("object type"), max_length=100)
    name = models.CharField(_("API name"), max_length=63)
    label = models.CharField(_("label"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20)
    help_text = models.CharField(_("help text"), max_length=500, blank=True)
    required = models.BooleanField(_("required"), default=False)
    unique = models.BooleanField(_("unique"), default=False)
    default = _value_field(_("default"))
    # Bounds: the value's for numbers and dates, its length for text, the count of
    # options picked for a multiple choice.
    minimum = _value_field(_("minimum"))
    maximum = _value_field(_("maximum"))
    pattern = models.CharField(_("pattern"), max_length=200, blank=True)
    # [{"key": "gold", "label": "Gold"}, ...] in display order.
    choices = models.JSONField(_("options"), default=list, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    related_type = models.CharField(_("related object type"), max_length=100, blank=True)
    # A formula field's source, and the kind of its stored results (a value kind:
    # decimal, money, text, date, boolean) found when it was compiled.
    # (A row written without them, by a process of the release before, has neither.)
    formula = models.TextField(_("formula"), blank=True, default="", db_default="")
    result_kind = models.CharField(
        _("result kind"), max_length=20, blank=True, default="", db_default=""
    )
    section = models.CharField(_("section"), max_length=100, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    # Role ids; empty: everyone who sees the record sees (edits) the field.
    view_roles = models.JSONField(_("roles that see it"), default=list, blank=True)
    edit_roles = models.JSONField(_("roles that edit it"), default=list, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CustomFieldQuerySet.as_manager()

    class Meta:
        ordering = ["object_type", "section", "position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [
            models.UniqueConstraint(fields=["object_type", "name"], name="custom_field_name_unique")
        ]

    def __str__(self):
        return self.label

    @cached_property
    def key(self) -> str:
        """The key of this field's value in a record's ``custom`` (its id as text)."""
        return str(self.pk)

    @property
    def value_kind(self) -> str:
        """The kind its stored values have: its own, or a formula's result kind."""
        return self.result_kind if self.kind == "formula" else self.kind

    def audit_snapshot(self) -> dict:
        skip = {"id", "version", "created_at", "updated_at"}
        return {
            f.attname: getattr(self, f.attname)
            for f in self._meta.concrete_fields
            if f.attname not in skip
        }


class DefinitionStamp(models.Model):
    """A token per kind of definition, replaced by a fresh random one on every change.

    Each process caches definitions (custom fields, custom object types) and reads this
    row (``kontor.core.stamps``) to learn whether another process changed them: no
    restart after a field or a type is added. Random, not a counter: a rolled-back
    change must not leave a value a later change reuses.
    """

    name = models.CharField(max_length=50, primary_key=True)
    value = models.CharField(max_length=32)

    def __str__(self):
        return f"{self.name}: {self.value}"


def export_path(instance, filename):
    now = timezone.now()
    return f"exports/{now:%Y/%m}/{os.urandom(8).hex()}/{filename}"


class JobState(models.TextChoices):
    """Where a background run stands (an export, a duplicates scan)."""

    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class ExportJob(models.Model):
    """One export of a list (CSV, XLSX, vCard): who asked for which rows, and when.

    Every export leaves one, audited: a small one is streamed at once (done as it
    starts); a big one is written in the background to ``file``, its progress counted
    here, and downloaded by the one who asked for it.
    """

    State = JobState

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_type = models.CharField(max_length=100)
    # The list's filters (core.types.ListFilters as a dict), so a worker reads the same rows.
    filters = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    format = models.CharField(max_length=8)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_path, max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="exportjob_user")]

    def __str__(self):
        return f"{self.object_type} {self.format} ({self.total})"

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 100
