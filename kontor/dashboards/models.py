"""A dashboard: widgets on a grid, a user's own home page or one a head published to a
department (its members see it read-only and may copy it to their own)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DASHBOARD_TYPE = "dashboards.dashboard"
GRID_COLUMNS = 4


class Dashboard(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=100)
    # Published to this department (and the departments below it); none: the owner's own.
    # A department deleted leaves the dashboard its owner's alone.
    department = models.ForeignKey(
        settings.KONTOR_DEPARTMENT_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published to"),
    )
    # Among its owner's dashboards: the first is their home page.
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("dashboard")
        verbose_name_plural = _("dashboards")
        indexes = [models.Index(fields=["owner", "position", "id"], name="dashboard_owner")]

    def __str__(self):
        return self.name


class Widget(models.Model):
    class Height(models.TextChoices):
        SMALL = "small", _("small")
        MEDIUM = "medium", _("medium")
        LARGE = "large", _("large")

    dashboard = models.ForeignKey(
        Dashboard, on_delete=models.CASCADE, related_name="widgets", verbose_name=_("dashboard")
    )
    kind = models.CharField(_("kind"), max_length=40)
    # The kind's own choices (a saved view's id, a grouping, a number of rows ...).
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    width = models.PositiveSmallIntegerField(
        _("width"), default=2, validators=[MinValueValidator(1), MaxValueValidator(GRID_COLUMNS)]
    )
    height = models.CharField(_("height"), max_length=8, choices=Height.choices, default="medium")

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("widget")
        verbose_name_plural = _("widgets")

    def __str__(self):
        return f"{self.kind} #{self.pk}"
