"""Duplicate candidates of people and companies, the scans that find them, and merges."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kontor.core.models import JobState


class Reason(models.TextChoices):
    """Why a pair is offered: a shared contact point or tax id alone (exact reasons), or a
    name together with at least one other signal (``finder.name_pair_reasons``)."""

    EMAIL = "email", _("same email")
    PHONE = "phone", _("same phone")
    TAX_ID = "tax_id", _("same tax id")
    NAME = "name", _("similar name")
    SAME_NAME = "same_name", _("same name")
    EMPLOYER = "employer", _("same employer")
    BIRTHDAY = "birthday", _("same birthday")
    ADDRESS = "address", _("same address")
    CITY = "city", _("same city")
    WEBSITE = "website", _("same website")
    EMAIL_DOMAIN = "email_domain", _("same email domain")
    PHONE_ENDING = "phone_ending", _("same phone ending")


# Reasons are stored as bits, so that a scan adds a reason to a pair in the database
# (``reasons | new``) without reading it first; a new reason goes last (bits stay).
REASON_BITS = {reason: 1 << i for i, reason in enumerate(Reason.values)}


class Candidate(models.Model):
    """Two records of one type that may be one: ``first_id`` < ``second_id``.

    Found by a scan (``finder``), which stamps every pair it finds with its start
    (``found_at``) and then removes the open pairs it did not find; a dismissed pair
    ("not a duplicate") is kept so that no scan offers it again.
    """

    object_type = models.CharField(max_length=100)
    first_id = models.BigIntegerField()
    second_id = models.BigIntegerField()
    score = models.PositiveSmallIntegerField()
    reasons = models.PositiveSmallIntegerField(default=0)  # REASON_BITS
    found_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "first_id", "second_id"], name="dedup_candidate_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(first_id__lt=models.F("second_id")),
                name="dedup_candidate_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["object_type", "-score", "id"], name="dedup_candidate_list"),
            models.Index(fields=["object_type", "second_id"], name="dedup_candidate_second"),
        ]

    def __str__(self):
        return f"{self.object_type}:{self.first_id}~{self.second_id}"

    @property
    def reason_names(self) -> list[str]:
        return [reason for reason, bit in REASON_BITS.items() if self.reasons & bit]

    @property
    def reason_labels(self) -> list[str]:
        labels = dict(Reason.choices)
        return [str(labels[reason]) for reason in self.reason_names]


class Scan(models.Model):
    """One run of the finder over one type, with its progress for the page."""

    Status = JobState

    object_type = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Steps: records read, then blocks compared; ``total`` is both together.
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    pairs = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"scan {self.object_type} {self.status}"

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0


class Merge(models.Model):
    """A merge of ``merged_id`` into ``survivor_id``, with all its undo needs.

    ``merged_record``: the removed record and its own rows, serialized (ids kept).
    ``survivor_before``: the survivor's values the merge changed, as its service takes
    them. ``pointers``: every row re-linked from the merged record to the survivor.
    """

    object_type = models.CharField(max_length=100)
    survivor_id = models.BigIntegerField()
    merged_id = models.BigIntegerField()
    merged_repr = models.CharField(max_length=255)
    merged_record = models.JSONField()
    survivor_before = models.JSONField()
    survivor_version = models.PositiveIntegerField()
    pointers = models.JSONField(default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "survivor_id"])]

    def __str__(self):
        return f"{self.object_type}:{self.merged_id}→{self.survivor_id}"
