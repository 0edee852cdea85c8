"""Every write to users, departments, roles and tokens."""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from kontor.core import audit
from kontor.core import services as records
from kontor.core.access import ANY_OBJECT_TYPE, Action, Scope, record_in_scope, require, scope_for
from kontor.core.errors import (
    KontorError,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)

from . import throttle
from .models import ApiToken, Department, Role, RoleGrant, User, hash_token, normalize_email


class AccountsError(KontorError):
    pass


# The three roles a new install starts with; an admin may edit them afterwards. The
# descriptions are stored in English and translated on display while left unchanged.
BUILTIN_ROLES: dict[str, tuple[str, dict[str, Scope]]] = {
    "admin": (
        gettext_noop("Every action on everything."),
        {action: Scope.ALL for action in Action.all},
    ),
    "head": (
        gettext_noop("Every action within their department and its sub-departments."),
        {action: Scope.SUBTREE for action in Action.all},
    ),
    "member": (
        gettext_noop("View within their department; create records and edit their own."),
        {Action.VIEW: Scope.DEPARTMENT, Action.CREATE: Scope.OWN, Action.EDIT: Scope.OWN},
    ),
}


# Beyond its grants on every type, what a built-in role may do on one type: a member
# sets tasks for the colleagues of their department (the task's owner is its assignee),
# and still edits only their own. Added to an existing install by activities' 0002.
BUILTIN_TYPE_GRANTS: dict[str, dict[tuple[str, str], Scope]] = {
    "member": {("activities.task", Action.CREATE): Scope.DEPARTMENT},
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
            install_builtin_type_grants(role_model, grant_model, name)


def install_builtin_type_grants(role_model, grant_model, name: str) -> None:
    """The type grants of the built-in role ``name`` that it lacks (a grant an admin set
    on that type and action meanwhile is theirs, and stays)."""
    role = role_model.objects.filter(name=name, is_builtin=True).first()
    if role is None:
        return
    for (object_type, action), scope in BUILTIN_TYPE_GRANTS.get(name, {}).items():
        grant_model.objects.get_or_create(
            role=role, object_type=object_type, action=action, defaults={"scope": int(scope)}
        )


# -- guards against privilege escalation ----------------------------------------------------

USER_TYPE = "accounts.user"
DEPARTMENT_TYPE = "accounts.department"
ROLE_TYPE = "accounts.role"

Grant = tuple[str, str, Scope]


def _is_superuser(actor) -> bool:
    return bool(getattr(actor, "is_superuser", False))


def _is_self(actor, user: User) -> bool:
    return getattr(actor, "pk", None) is not None and actor.pk == user.pk


def may_create_users(actor) -> bool:
    # A new user owns nothing yet, so only a department-wide scope can admit one.
    return scope_for(actor, USER_TYPE, Action.CREATE) >= Scope.DEPARTMENT


def may_create_departments(actor) -> bool:
    # A new department is outside every department scope until it exists.
    return scope_for(actor, DEPARTMENT_TYPE, Action.CREATE) == Scope.ALL


def may_manage_roles(actor) -> bool:
    """Only these actors change roles, their grants, or who holds them."""
    return _is_superuser(actor) or scope_for(actor, ROLE_TYPE, Action.EDIT) == Scope.ALL


def _require_role_manager(actor) -> None:
    if not may_manage_roles(actor):
        raise PermissionDenied(_("Only an administrator of roles can change roles or grants."))


def _grants_of_roles(roles: Iterable[Role]) -> list[Grant]:
    return [
        (object_type, action, Scope(scope))
        for object_type, action, scope in RoleGrant.objects.filter(
            role__in=[r.pk for r in roles]
        ).values_list("object_type", "action", "scope")
    ]


def _require_grantable(actor, grants: Iterable[Grant]) -> None:
    """Nobody hands out a scope wider than they hold themselves."""
    for object_type, action, scope in grants:
        if scope > scope_for(actor, object_type, action):
            raise PermissionDenied(
                _(
                    "You cannot grant “%(action)s” on “%(object_type)s” wider than you hold it "
                    "yourself."
                )
                % {"action": action, "object_type": object_type}
            )


def _require_not_above(actor, user: User) -> None:
    """An actor manages only users whose rights do not exceed their own.

    Otherwise a head could reset the password of an admin placed in their department
    and log in as them.
    """
    if user.is_superuser and not _is_superuser(actor):
        raise PermissionDenied(_("Only a superuser can change a superuser."))
    _require_grantable(actor, _grants_of_roles(user.roles.all()))


def _require_department_assignable(actor, department: Department | None, action: str) -> None:
    # An unsaved user owns nothing, so only the actor's department scope can admit it:
    # nobody places a user (themselves included) where they could not place a new one.
    if not record_in_scope(actor, User(department=department), action):
        raise PermissionDenied(
            errors={"department_id": [_("You cannot place a user in this department.")]}
        )


def department_for(
    actor, department_id: int | None, *, field: str = "department_id"
) -> Department | None:
    """The department the actor chose by id, for assigning; unknown or unseen ids are an error."""
    if department_id in (None, ""):
        return None
    department = Department.objects.visible_to(actor).filter(pk=department_id).first()
    if department is None:
        raise ValidationFailed(errors={field: [_("Choose an existing department.")]})
    return department


def roles_for(role_ids: Iterable[int]) -> list[Role]:
    """The roles named by id; whether the actor may assign them is the write's to check."""
    ids = {int(i) for i in role_ids}
    roles = list(Role.objects.filter(pk__in=ids))
    if len(roles) != len(ids):
        raise ValidationFailed(errors={"role_ids": [_("Choose existing roles.")]})
    return roles


# -- departments ---------------------------------------------------------------------------


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
    require(actor, Action.EDIT, department)
    # The department keeps its id, so its own scope check would pass wherever it goes:
    # the destination must be within the actor's reach too.
    if parent is None:
        if scope_for(actor, DEPARTMENT_TYPE, Action.EDIT) != Scope.ALL:
            raise PermissionDenied(_("Only an administrator can make a top-level department."))
    elif not record_in_scope(actor, parent, Action.EDIT):
        raise PermissionDenied(_("You cannot move a department there."))
    if parent is not None and parent.path.startswith(department.path):
        raise ValidationFailed(
            errors={"parent_id": [_("A department cannot sit inside its own sub-department.")]}
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


def delete_department(department: Department, *, actor, expected_version=None) -> None:
    """Remove an empty department: no sub-departments, no members, no records placed in it."""
    require(actor, Action.DELETE, department)
    if department.children.exists() or department.members.exists():
        raise ValidationFailed(
            _("Only an empty department can be deleted: move its members and sub-departments.")
        )
    try:
        records.delete_record(department, actor=actor, expected_version=expected_version)
    except ProtectedError:
        raise ValidationFailed(
            _("Records still belong to this department: move them before deleting it.")
        ) from None


def ensure_department(name: str, *, actor) -> Department:
    """The department called ``name``, created at the top level if it does not exist."""
    existing = Department.objects.filter(name__iexact=name.strip()).first()
    return existing or create_department(name=name, actor=actor)


# -- roles -------------------------------------------------------------------------------

_OBJECT_TYPE_RE = re.compile(r"^(\*|[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)$")


def _clean_grants(grants: Iterable) -> list[Grant]:
    """``(object_type, action, scope)`` triples, checked; a scope of 0 (none) is dropped."""
    cleaned: list[Grant] = []
    seen: set[tuple[str, str]] = set()
    errors: dict[str, list[str]] = {}
    for i, (object_type, action, scope) in enumerate(grants):
        object_type = str(object_type or "").strip()
        if not _OBJECT_TYPE_RE.match(object_type):
            errors.setdefault(f"grants.{i}.object_type", []).append(_("Unknown object type."))
            continue
        if action not in Action.all:
            errors.setdefault(f"grants.{i}.action", []).append(_("Unknown action."))
            continue
        try:
            scope = Scope(int(scope))
        except (TypeError, ValueError):
            errors.setdefault(f"grants.{i}.scope", []).append(_("Unknown scope."))
            continue
        if (object_type, action) in seen:
            errors.setdefault(f"grants.{i}.action", []).append(_("This grant is listed twice."))
            continue
        seen.add((object_type, action))
        if scope != Scope.NONE:
            cleaned.append((object_type, action, scope))
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def _grant_saver(grants: list[Grant] | None):
    def save(role):
        if grants is None:
            return
        role.grants.all().delete()
        RoleGrant.objects.bulk_create(
            RoleGrant(role=role, object_type=o, action=a, scope=int(s)) for o, a, s in grants
        )

    return save


def create_role(*, name: str, description: str = "", grants: Iterable = (), actor) -> Role:
    """A new role with the given grants, each no wider than the actor's own."""
    _require_role_manager(actor)
    cleaned = _clean_grants(grants)
    _require_grantable(actor, cleaned)
    role = Role(name=(name or "").strip(), description=(description or "").strip())
    return records.create_record(role, actor=actor, save_related=_grant_saver(cleaned))


def update_role(
    role: Role,
    *,
    name: str | None = None,
    description: str | None = None,
    grants: Iterable | None = None,
    actor,
    expected_version=None,
) -> Role:
    """Rename, redescribe or replace the grants of a role (built-in roles too)."""
    _require_role_manager(actor)
    cleaned = None if grants is None else _clean_grants(grants)
    if cleaned is not None:
        _require_grantable(actor, cleaned)

    def apply(r):
        if name is not None:
            r.name = name.strip()
        if description is not None:
            r.description = description.strip()

    return records.update_record(
        role,
        apply,
        actor=actor,
        expected_version=expected_version,
        save_related=_grant_saver(cleaned),
    )


def delete_role(role: Role, *, actor, expected_version=None) -> None:
    _require_role_manager(actor)
    if role.is_builtin:
        raise AccountsError(_("Built-in roles can be edited but not deleted."))
    records.delete_record(role, actor=actor, expected_version=expected_version)


def role_named(name: str) -> Role:
    try:
        return Role.objects.get(name__iexact=name.strip())
    except Role.DoesNotExist:
        known = ", ".join(Role.objects.values_list("name", flat=True))
        raise NotFound(
            _("There is no role “%(name)s”. Known roles: %(known)s.")
            % {"name": name, "known": known}
        ) from None


# -- users -------------------------------------------------------------------------------


def _validated_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(errors={"password": exc.messages}) from None


def _require_unique_email(email: str, *, exclude_pk=None) -> None:
    if User.objects.filter(email__iexact=email).exclude(pk=exclude_pk).exists():
        raise ValidationFailed(errors={"email": [_("A user with this email already exists.")]})


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
    if is_superuser and not _is_superuser(actor):
        raise PermissionDenied(_("Only a superuser can create a superuser."))
    user = User(
        email=normalize_email(email),
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
        department=department,
        is_superuser=is_superuser,
    )
    require(actor, Action.CREATE, user)
    roles = list(roles)
    if roles:
        _require_role_manager(actor)
        _require_grantable(actor, _grants_of_roles(roles))
    _require_unique_email(user.email)
    if password:
        _validated_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()

    def save_roles(u):
        u.roles.set(roles)

    return records.create_record(user, actor=actor, save_related=save_roles)


USER_TEXT_FIELDS = ("first_name", "last_name", "time_zone", "language")


def update_user(user: User, data: dict, *, actor, expected_version=None) -> User:
    """Change a user's name, email, department, active flag, superuser flag or roles.

    ``data`` holds only the keys to change: ``department`` (a Department or None) and
    ``roles`` (Roles) as objects. Each sensitive change has its own guard; a refused
    change leaves the row as it was.
    """
    require(actor, Action.EDIT, user)
    is_self = _is_self(actor, user)
    if not is_self:
        _require_not_above(actor, user)
    if "is_superuser" in data and bool(data["is_superuser"]) != user.is_superuser:
        if is_self or not _is_superuser(actor):
            raise PermissionDenied(_("Only another superuser can change the superuser flag."))
    if "is_active" in data and bool(data["is_active"]) != user.is_active and is_self:
        raise PermissionDenied(_("You cannot deactivate your own account."))
    roles = None
    if "roles" in data:
        roles = list(data["roles"])
        current = set(user.roles.values_list("pk", flat=True))
        if {r.pk for r in roles} != current:
            if is_self:
                raise PermissionDenied(_("You cannot change your own roles."))
            _require_role_manager(actor)
            _require_grantable(actor, _grants_of_roles(r for r in roles if r.pk not in current))
        else:
            roles = None
    if "department" in data and getattr(data["department"], "pk", None) != user.department_id:
        _require_department_assignable(actor, data["department"], Action.EDIT)
    if "email" in data:
        data = {**data, "email": normalize_email(data["email"])}
        _require_unique_email(data["email"], exclude_pk=user.pk)
    if data.get("language"):
        _require_known_language(data["language"])

    def apply(u):
        for field in ("email", *USER_TEXT_FIELDS):
            if field in data:
                setattr(u, field, (data[field] or "").strip())
        for flag in ("is_active", "is_superuser"):
            if flag in data:
                setattr(u, flag, bool(data[flag]))
        if "department" in data:
            u.department = data["department"]

    def save_roles(u):
        if roles is not None:
            u.roles.set(roles)

    return records.update_record(
        user, apply, actor=actor, expected_version=expected_version, save_related=save_roles
    )


def deactivate_user(user: User, *, actor, expected_version=None) -> User:
    """The user can no longer log in or use their API tokens; their records stay."""
    return update_user(user, {"is_active": False}, actor=actor, expected_version=expected_version)


def set_password(user: User, *, password: str, actor, current_password: str | None = None):
    """Set a new password: your own with the current one, or one of a user you manage."""
    if _is_self(actor, user):
        throttle.check_current_password(user, current_password or "")
    else:
        require(actor, Action.EDIT, user)
        _require_not_above(actor, user)
    _validated_password(password, user)
    return _store_password(user, password, actor=actor, action="accounts.user.password_changed")


def _store_password(user: User, password: str, *, actor, action: str) -> User:
    user.set_password(password)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(password=user.password)
        audit.record(action, user, actor=actor, changes={})
    return user


def _require_known_language(language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed(errors={"language": [_("Choose one of the offered languages.")]})


def set_language(user: User, language: str, *, actor) -> User:
    """Keep the language ``user`` reads Kontor in, so every browser they log in from speaks it.

    A preference of one's own, like the password: it needs no role, and nobody sets it
    for someone else through this door (an admin edits the user instead).
    """
    if not _is_self(actor, user):
        raise PermissionDenied(_("You can only choose your own language."))
    _require_known_language(language)
    if language != user.language:
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(language=language)
            audit.record(
                "accounts.user.language_changed",
                user,
                actor=actor,
                changes={"language": [user.language, language]},
            )
        user.language = language
    return user


def may_manage_password(actor, user: User) -> bool:
    """Whether ``actor`` may set ``user``'s password or send them a reset link.

    Your own password is changed with the current one instead (``set_password``).
    """
    if _is_self(actor, user) or not record_in_scope(actor, user, Action.EDIT):
        return False
    try:
        _require_not_above(actor, user)
    except PermissionDenied:
        return False
    return True


def send_password_reset(user: User, *, actor, send: Callable[[User], None]) -> None:
    """An administrator sends ``user`` a link to choose a new password.

    ``send`` mails the link; it runs after the audit row commits, so a refused or
    rolled-back request sends nothing. Links mailed to one user are limited per hour
    (``throttle.reset_mail_wait``), whoever asked for them.
    """
    require(actor, Action.EDIT, user)
    if not may_manage_password(actor, user):
        raise PermissionDenied(_("You cannot reset this user's password."))
    if not user.is_active:
        raise ValidationFailed(_("This user is deactivated: activate them before a reset."))
    with transaction.atomic():
        if wait := throttle.reset_mail_wait(user):
            minutes = math.ceil(wait / 60)
            raise TooManyAttempts(
                ngettext(
                    "A reset link was sent to %(email)s recently. "
                    "You can send another in %(minutes)d minute.",
                    "A reset link was sent to %(email)s recently. "
                    "You can send another in %(minutes)d minutes.",
                    minutes,
                )
                % {"email": user.email, "minutes": minutes},
                retry_after=wait,
            )
        audit.record("accounts.user.password_reset_sent", user, actor=actor, changes={})
        transaction.on_commit(functools.partial(send, user))


def reset_password(user: User, *, password: str) -> User:
    """Set the password chosen through a reset link; holding the link proves who they are."""
    _validated_password(password, user)
    return _store_password(user, password, actor=user, action="accounts.user.password_reset")


# -- API tokens --------------------------------------------------------------------------


def issue_token(user: User, *, name: str = "", actor) -> str:
    """Create an API token for ``user`` and return it; only its hash is kept."""
    if not _is_self(actor, user) and not _is_superuser(actor):
        raise PermissionDenied(_("You can only create tokens for yourself."))
    raw = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=(name or "").strip()[:100],
            key_prefix=raw[:10],
            token_hash=hash_token(raw),
        )
        audit.record(
            "accounts.apitoken.created", token, actor=actor, changes={"name": [None, token.name]}
        )
    return raw


def revoke_token(token: ApiToken, *, actor) -> None:
    if getattr(actor, "pk", None) != token.user_id and not _is_superuser(actor):
        raise NotFound()
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            audit.record("accounts.apitoken.revoked", token, actor=actor, changes={})


# last_used_at is a hint, not a ledger: at most one write per token per minute.
LAST_USED_RESOLUTION_SECONDS = 60


@functools.cache
def _token_sql(vendor: str) -> str:
    """One read for an API call's caller: the user of a live token, with their grants.

    A row per grant of each of the user's roles (one row with empty grant columns for a
    user without any), each saying whether the token's ``last_used_at`` is older than
    the given time. Names come from the models' metadata, so it reads the same on SQLite
    and PostgreSQL.
    """
    quote = connection.ops.quote_name
    token, user, grant = ApiToken._meta, User._meta, RoleGrant._meta
    user_roles = User.roles.through._meta

    def col(alias, meta, name):
        return f"{alias}.{quote(meta.get_field(name).column)}"

    user_columns = ", ".join(f"u.{quote(f.column)}" for f in user.concrete_fields)
    last_used = col("t", token, "last_used_at")
    return (
        f"SELECT {user_columns}, {col('t', token, 'id')} AS token_id, "
        f"CASE WHEN {last_used} IS NULL OR {last_used} < %s THEN 1 ELSE 0 END AS token_stale, "
        f"{col('g', grant, 'object_type')} AS grant_object_type, "
        f"{col('g', grant, 'action')} AS grant_action, {col('g', grant, 'scope')} AS grant_scope "
        f"FROM {quote(token.db_table)} t "
        f"JOIN {quote(user.db_table)} u ON {col('u', user, 'id')} = {col('t', token, 'user')} "
        f"LEFT JOIN {quote(user_roles.db_table)} ur "
        f"ON {col('ur', user_roles, 'user')} = {col('u', user, 'id')} "
        f"LEFT JOIN {quote(grant.db_table)} g "
        f"ON {col('g', grant, 'role')} = {col('ur', user_roles, 'role')} "
        f"WHERE {col('t', token, 'token_hash')} = %s AND {col('t', token, 'revoked_at')} IS NULL"
    )


@functools.cache
def _user_converters(vendor: str) -> list[tuple[int, list]]:
    """For each user column that needs it, the converters a query of the ORM would apply
    to its raw database value (text to datetime and 0/1 to bool on SQLite)."""
    found = []
    for i, field in enumerate(User._meta.concrete_fields):
        col = field.get_col(User._meta.db_table)
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if converters:
            found.append((i, converters))
    return found


def user_for_token(raw: str) -> User | None:
    """The active user owning the active token ``raw``, or None.

    The user comes with their grants, read in the same query (``User.set_access_grants``):
    authenticating an API call costs one query, and its access checks none.
    """
    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    now = timezone.now()
    stale_before = now - datetime.timedelta(seconds=LAST_USED_RESOLUTION_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(connection.vendor), [stale_before, hash_token(raw)])
        rows = cursor.fetchall()
    if not rows:
        return None
    fields = User._meta.concrete_fields
    values = list(rows[0][: len(fields)])
    for i, converters in _user_converters(connection.vendor):
        for convert in converters:
            values[i] = convert(values[i], fields[i].get_col(User._meta.db_table), connection)
    user = User.from_db(connection.alias, [f.attname for f in fields], values)
    if not user.is_active:
        return None
    token_id, stale = rows[0][len(fields)], rows[0][len(fields) + 1]
    user.set_access_grants(row[-3:] for row in rows if row[-3] is not None)
    if stale:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user
