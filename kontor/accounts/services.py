"""Every write to users, departments, roles and tokens."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.core import audit
from kontor.core import services as records
from kontor.core.access import ANY_OBJECT_TYPE, Action, Scope
from kontor.core.errors import KontorError, NotFound, ValidationFailed

from .models import ApiToken, Department, Role, RoleGrant, User, hash_token, normalize_email


class AccountsError(KontorError):
    pass


# The three roles a new install starts with; an admin may edit them afterwards.
BUILTIN_ROLES: dict[str, tuple[str, dict[str, Scope]]] = {
    "admin": (
        "Every action on everything.",
        {action: Scope.ALL for action in Action.all},
    ),
    "head": (
        "Every action within their department and its sub-departments.",
        {action: Scope.SUBTREE for action in Action.all},
    ),
    "member": (
        "View within their department; create records and edit their own.",
        {Action.VIEW: Scope.DEPARTMENT, Action.CREATE: Scope.OWN, Action.EDIT: Scope.OWN},
    ),
}


def install_builtin_roles(role_model=Role, grant_model=RoleGrant) -> None:
    """Create the built-in roles if missing (also run by a data migration)."""
    for name, (description, grants) in BUILTIN_ROLES.items():
        role, created = role_model.objects.get_or_create(
            name=name, defaults={"description": description, "is_builtin": True}
        )
        if created:
            grant_model.objects.bulk_create(
                grant_model(role=role, object_type=ANY_OBJECT_TYPE, action=a, scope=int(s))
                for a, s in grants.items()
            )


def _set_path(department: Department) -> None:
    parent_path = department.parent.path if department.parent_id else "/"
    department.path = f"{parent_path}{department.pk}/"


def create_department(*, name: str, parent: Department | None = None, actor) -> Department:
    department = Department(name=(name or "").strip(), parent=parent)

    def save_path(dept):
        _set_path(dept)
        Department.objects.filter(pk=dept.pk).update(path=dept.path)

    # The path needs the new id, so it is written right after the insert.
    return records.create_record(department, actor=actor, save_related=save_path)


def move_department(
    department: Department, *, parent: Department | None, actor, expected_version=None
):
    """Re-parent a department, rewriting the paths of its whole subtree."""
    if parent is not None and parent.path.startswith(department.path):
        raise ValidationFailed(
            errors={"parent": [_("A department cannot sit inside its own sub-department.")]}
        )
    old_path = department.path

    def apply(dept):
        dept.parent = parent

    def rewrite_subtree(dept):
        _set_path(dept)
        for node in Department.objects.filter(path__startswith=old_path):
            node.path = dept.path + node.path[len(old_path) :]
            node.save(update_fields=["path"])

    return records.update_record(
        department,
        apply,
        actor=actor,
        expected_version=expected_version,
        save_related=rewrite_subtree,
    )


def rename_department(department: Department, *, name: str, actor, expected_version=None):
    def apply(dept):
        dept.name = (name or "").strip()

    return records.update_record(department, apply, actor=actor, expected_version=expected_version)


def ensure_department(name: str, *, actor) -> Department:
    """The department called ``name``, created at the top level if it does not exist."""
    existing = Department.objects.filter(name__iexact=name.strip()).first()
    return existing or create_department(name=name, actor=actor)


def role_named(name: str) -> Role:
    try:
        return Role.objects.get(name__iexact=name.strip())
    except Role.DoesNotExist:
        known = ", ".join(Role.objects.values_list("name", flat=True))
        raise NotFound(
            _("There is no role “%(name)s”. Known roles: %(known)s.")
            % {"name": name, "known": known}
        ) from None


def create_user(
    *,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    department: Department | None = None,
    roles: list[Role] | tuple[Role, ...] = (),
    is_superuser: bool = False,
    actor,
) -> User:
    if is_superuser and not getattr(actor, "is_superuser", False):
        raise AccountsError(_("Only a superuser can create a superuser."))
    user = User(
        email=normalize_email(email),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        department=department,
        is_superuser=is_superuser,
    )
    if User.objects.filter(email__iexact=user.email).exists():
        raise ValidationFailed(errors={"email": [_("A user with this email already exists.")]})
    if password:
        try:
            password_validation.validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationFailed(errors={"password": exc.messages}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()

    def save_roles(u):
        u.roles.set(roles)

    return records.create_record(user, actor=actor, save_related=save_roles)


def issue_token(user: User, *, name: str = "", actor) -> str:
    """Create an API token for ``user`` and return it; only its hash is kept."""
    if getattr(actor, "pk", None) not in (None, user.pk) and not actor.is_superuser:
        raise AccountsError(_("You can only create tokens for yourself."))
    raw = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, key_prefix=raw[:10], token_hash=hash_token(raw)
        )
        audit.record("accounts.apitoken.created", token, actor=actor, changes={})
    return raw


def revoke_token(token: ApiToken, *, actor) -> None:
    if getattr(actor, "pk", None) not in (None, token.user_id) and not actor.is_superuser:
        raise NotFound()
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit.record("accounts.apitoken.revoked", token, actor=actor, changes={})


# last_used_at is a hint, not a ledger: at most one write per token per minute.
LAST_USED_RESOLUTION_SECONDS = 60


def user_for_token(raw: str) -> User | None:
    """The active user owning the active token ``raw``, or None."""
    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
