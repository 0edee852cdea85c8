"""The record of each backup and each restore drill: what the settings page shows."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BackupRun(models.Model):
    class Kind(models.TextChoices):
        BACKUP = "backup", _("Backup")
        DRILL = "drill", _("Restore drill")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        OK = "ok", _("Succeeded")
        FAILED = "failed", pgettext_lazy("backup result", "Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("result"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The archive written (a backup) or restored (a drill).
    archive = models.CharField(_("archive"), max_length=500, blank=True)
    size = models.BigIntegerField(_("size"), null=True, blank=True)
    tables = models.IntegerField(_("tables"), default=0)
    rows = models.BigIntegerField(_("rows"), default=0)
    files = models.IntegerField(_("files"), default=0)
    # A drill's per-table counts and digests, as the restored database gave them.
    checks = models.JSONField(default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "status", "-started_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"
