"""Users, departments (a tree), roles with per-type grants, and API tokens."""

import hashlib
import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.core.access import Action, Scope, ScopedQuerySet


class Department(models.Model):
    """A unit of the company; departments form a tree (sales > sales team 1).

    ``path`` ("/1/4/9/") is the chain of ids from the root, so a subtree is one
    prefix query. Services keep it current on create and move.
    """

    access_owner_field = None
    access_department_field = "id"
    # What ``str()`` reads: a record's department is read with it alone (types.select_names).
    name_fields = ("name",)

    name = models.CharField(_("name"), max_length=150, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=500, db_index=True, editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    def subtree_ids(self) -> list[int]:
        return list(
            Department.objects.filter(path__startswith=self.path).values_list("id", flat=True)
        )


# What the built-in roles are called on screen, in the reader's language. The stored name
# stays the code ("member") that `kontor createuser --role`, the API and the audit use.
BUILTIN_ROLE_LABELS = {
    "admin": pgettext_lazy("role", "Administrator"),
    "head": pgettext_lazy("role", "Head of department"),
    "member": pgettext_lazy("role", "Member"),
}


class Role(models.Model):
    """A named set of grants; a user may hold several and gets the widest scope of them."""

    access_owner_field = None
    access_department_field = None

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_builtin = models.BooleanField(default=False, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        """The translated label of a built-in role (unless an admin renamed it), else the name."""
        label = BUILTIN_ROLE_LABELS.get(self.name) if self.is_builtin else None
        return str(label) if label else self.name

    def audit_snapshot(self) -> dict:
        """Name, description and grants, so a grant change shows in the role's history."""
        return {
            "name": self.name,
            "description": self.description,
            "grants": sorted(
                f"{object_type} {action} {Scope(scope).name.lower()}"
                for object_type, action, scope in self.grants.values_list(
                    "object_type", "action", "scope"
                )
            ),
        }


class RoleGrant(models.Model):
    """One permission of a role: ``action`` on ``object_type`` ("*" = every type) at ``scope``."""

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="grants")
    object_type = models.CharField(_("object type"), max_length=100)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    scope = models.PositiveSmallIntegerField(_("scope"), choices=Scope.choices())

    class Meta:
        ordering = ["object_type", "action"]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "object_type", "action"], name="role_grant_unique"
            )
        ]

    def __str__(self):
        return f"{self.role}: {self.action} {self.object_type} ({Scope(self.scope).name})"


class UserManager(BaseUserManager):
    def for_api_token(self, raw_token: str):
        """The active user owning the active API token ``raw_token``, or None."""
        from .services import user_for_token

        return user_for_token(raw_token)

    def get_by_natural_key(self, username):
        # Exactly the stored (normalised) form, so the login throttle's key, the same
        # normalisation, names one account: no case or Unicode variant matches it apart.
        return self.get(email=normalize_email(username))

    def create_user(self, email, password=None, **fields):
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        return self.create_user(email, password, is_superuser=True, **fields)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


class User(AbstractBaseUser):
    """A person who logs in (by email) and acts in Kontor."""

    access_owner_field = "id"
    access_department_field = "department_id"
    # What ``str()`` reads: a record's owner is read with these alone (types.select_names).
    name_fields = ("first_name", "last_name", "email")

    email = models.EmailField(_("email"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")
    is_active = models.BooleanField(_("active"), default=True)
    is_superuser = models.BooleanField(_("superuser"), default=False)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    date_joined = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = UserManager.from_queryset(ScopedQuerySet)()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["last_name", "first_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.email

    def audit_snapshot(self) -> dict:
        """What an admin would ask about: placement, flags and roles; never the password."""
        return {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "department_id": self.department_id,
            "is_active": self.is_active,
            "is_superuser": self.is_superuser,
            "time_zone": self.time_zone,
            "language": self.language,
            "roles": sorted(self.roles.values_list("name", flat=True)) if self.pk else [],
        }

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    # The methods below are the protocol kontor.core reads. Each caches on
    # the instance, which lives for one request: a grant change applies from the next.
    def access_grants(self) -> dict[tuple[str, str], Scope]:
        if not hasattr(self, "_access_grants"):
            self.set_access_grants(
                RoleGrant.objects.filter(role__users=self).values_list(
                    "object_type", "action", "scope"
                )
            )
        return self._access_grants

    def access_role_ids(self) -> list[int]:
        """The user's role ids: custom fields name the roles that see or edit them."""
        if not hasattr(self, "_role_ids"):
            self._role_ids = list(self.roles.values_list("id", flat=True))
        return self._role_ids

    def set_access_grants(self, rows) -> None:
        """Take the user's grants from (object_type, action, scope) rows of all their roles.

        For a reader that loaded them with the user (the API token's one query).
        """
        grants: dict[tuple[str, str], Scope] = {}
        for object_type, action, scope in rows:
            key = (object_type, action)
            grants[key] = max(grants.get(key, Scope.NONE), Scope(scope))
        self._access_grants = grants

    def department_subtree_ids(self) -> list[int]:
        if not hasattr(self, "_subtree_ids"):
            self._subtree_ids = self.department.subtree_ids() if self.department_id else []
        return self._subtree_ids


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Attempt(models.Model):
    """One throttled action about a user, counted by ``accounts.throttle`` within its window.

    A check of the user's current password (changing one's own), or a reset link mailed to
    them; ``client_ip`` is the requester's address where it counts too (forgot password).
    """

    class Kind(models.TextChoices):
        PASSWORD_GUESS = "password_guess"
        RESET_MAIL = "reset_mail"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "user", "at"], name="attempt_kind_user_at"),
            models.Index(fields=["kind", "client_ip", "at"], name="attempt_kind_ip_at"),
        ]

    def __str__(self):
        return f"{self.kind} {self.user_id} at {self.at:%Y-%m-%d %H:%M:%S}"


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once."""

    PREFIX = "kt_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    key_prefix = models.CharField(max_length=16, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.key_prefix}… ({self.user})"

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
