"""A saved view: a record list's state (filters, text search, sort, columns) kept under a
name for the next visit, the user's own or shared with a department or everyone."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kontor.core.access import Scope, scope_for

SAVED_VIEW_TYPE = "savedviews.savedview"


def may_manage_views(user) -> bool:
    """Administrators (a role granting "edit" with scope "all" on saved views, the admin
    role's "*" included; superusers) rename and delete anyone's views."""
    return scope_for(user, SAVED_VIEW_TYPE, "edit") == Scope.ALL


def department_chain(user) -> list[int]:
    """The user's department and those above it: a view shared with a department reaches
    its sub-departments' members too."""
    if not getattr(user, "department_id", None):
        return []
    return [int(part) for part in user.department.path.strip("/").split("/") if part]


class SavedViewQuerySet(models.QuerySet):
    def seen_by(self, user):
        """The user's own views and those shared with them (their department, or any
        department above it, or everyone)."""
        shared = models.Q(owner_id=getattr(user, "pk", None)) | models.Q(
            sharing=SavedView.Sharing.EVERYONE
        )
        if chain := department_chain(user):
            shared |= models.Q(sharing=SavedView.Sharing.DEPARTMENT, department_id__in=chain)
        return self.filter(shared)

    def visible_to(self, user, action: str = "view", *, sorted_page: bool = False):
        """What a user may open by id: what they see, and everything for an administrator."""
        return self if may_manage_views(user) else self.seen_by(user)


class SavedView(models.Model):
    class Sharing(models.TextChoices):
        PERSONAL = "personal", _("only me")
        DEPARTMENT = "department", _("a department")
        EVERYONE = "everyone", _("everyone")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    object_type = models.CharField(_("record type"), max_length=100)
    name = models.CharField(_("name"), max_length=100)
    # The list's query parameters, each a list of values ({"q": ["smith"], "custom":
    # ["region:north", "size__gte:10"], "sort": ["-cf.score"]}); opening the view opens the
    # list with them.
    query = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)  # column keys; [] keeps the user's
    sharing = models.CharField(
        _("shared with"), max_length=16, choices=Sharing.choices, default=Sharing.PERSONAL
    )
    # A department deleted leaves its views shared with nobody but their owner.
    department = models.ForeignKey(
        settings.KONTOR_DEPARTMENT_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        ordering = ["object_type", Lower("name"), "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(Lower("name"), "object_type", "owner", name="saved_view_name")
        ]
        indexes = [models.Index(fields=["object_type", "sharing"])]

    def __str__(self):
        return self.name


class DefaultView(models.Model):
    """The view a record type's list opens in when its address asks for nothing else: a
    user's own choice, else one an administrator of views set for one of the user's roles."""

    object_type = models.CharField(_("record type"), max_length=100)
    view = models.ForeignKey(
        SavedView, on_delete=models.CASCADE, related_name="defaults", verbose_name=_("view")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    role = models.ForeignKey(
        "accounts.Role",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("role"),
    )

    class Meta:
        verbose_name = _("default view")
        verbose_name_plural = _("default views")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) ^ models.Q(role__isnull=True),
                name="default_view_user_or_role",
            ),
            models.UniqueConstraint(
                "object_type",
                "user",
                condition=models.Q(user__isnull=False),
                name="default_view_user",
            ),
            models.UniqueConstraint(
                "object_type",
                "role",
                condition=models.Q(role__isnull=False),
                name="default_view_role",
            ),
        ]

    def __str__(self):
        return self.view.name


class PinnedView(models.Model):
    """A view a user keeps in the main menu."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    view = models.ForeignKey(SavedView, on_delete=models.CASCADE, related_name="pins")
    pinned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pinned_at", "id"]
        constraints = [models.UniqueConstraint("user", "view", name="pinned_view_once")]

    def __str__(self):
        return self.view.name
