"""An import as recorded: who ran it, on which file, with which mapping, what it did,
and each record it created or updated (so that it can be undone)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kontor.core.access import Scope, scope_for

IMPORT_JOB_TYPE = "imports.importjob"


def may_manage_imports(user) -> bool:
    """Administrators (roles granted "edit" on imports with scope "all", superusers) see
    and undo everyone's imports; others their own."""
    return scope_for(user, IMPORT_JOB_TYPE, "edit") == Scope.ALL


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view", *, sorted_page: bool = False):
        if may_manage_imports(user):
            return self
        return self.filter(created_by_id=getattr(user, "pk", None))


class ImportJob(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("being mapped")
        WAITING = "waiting", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        UNDONE = "undone", _("undone")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    object_type = models.CharField(_("record type"), max_length=100)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=255)
    # How the file is read (encoding, delimiter, sheet), the mapping (header -> field)
    # and the options (match_on, on_match, create_links, day_first).
    reading = models.JSONField(default=dict, blank=True)
    mapping = models.JSONField(default=dict)
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    # The last line of the file written (a batch commits with its records): where a run
    # cut short resumes.
    last_line = models.PositiveIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)  # counted at upload: the progress bar's end
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("new"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    failed = models.PositiveIntegerField(_("with errors"), default=0)
    linked_created = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)  # why a run failed as a whole
    # A running job's claim: renewed with each batch; once it lapses (the process that
    # ran it died) a worker's pass resumes the job after its last line.
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # runs started, resumes included
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self):
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class ImportedRecord(models.Model):
    """A record an import created, or updated (with the values it had before)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="records")
    object_type = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    created = models.BooleanField()
    previous = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "created", "id"])]

    def __str__(self):
        return f"{self.object_type} {self.object_id}"


class ImportProblem(models.Model):
    """Why a row of an import was not imported (written with its batch)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=255, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["job", "line", "id"])]

    def __str__(self):
        return f"{self.line}: {self.message}"


class ImportKey(models.Model):
    """A match key (an email, a phone, an external id) a row of an import had first:
    a later row with the same key is a duplicate within the file. Kept in the database,
    written with its batch, so that the check needs no memory per row and a resumed
    run knows the keys of the rows written before it; dropped when the run ends."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=32)  # of the key's name and value
    line = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "digest"], name="imports_key_once_per_job")
        ]

    def __str__(self):
        return f"{self.digest} ({self.line})"


class ImportTemplateQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = "view", *, sorted_page: bool = False):
        """Shared templates and the user's own; an administrator of imports sees all."""
        if may_manage_imports(user):
            return self
        return self.filter(
            models.Q(shared=True) | models.Q(created_by_id=getattr(user, "pk", None))
        )


class ImportTemplate(models.Model):
    """A mapping saved by name for the next file of the same shape: which header goes to
    which field, how the file is read and what the import does with matches."""

    name = models.CharField(_("name"), max_length=100)
    object_type = models.CharField(_("record type"), max_length=100)
    # Header -> target key ({"E-mail": "emails"}), applied to a file by its headers.
    mapping = models.JSONField(default=dict)
    reading = models.JSONField(default=dict, blank=True)  # encoding, delimiter, sheet
    options = models.JSONField(default=dict, blank=True)  # as ImportJob.options
    shared = models.BooleanField(_("shared with everyone"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = ImportTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["object_type", "name", "id"]
        verbose_name = _("import template")
        verbose_name_plural = _("import templates")
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "object_type", "created_by", name="import_template_name"
            )
        ]

    def __str__(self):
        return self.name
