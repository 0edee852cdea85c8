"""/api/v1/users, /departments, /roles and /tokens: schema in, service or query call, schema out.

Lists use limit/offset and answer ``{items, count, count_capped, limit, offset}``.
"""

from __future__ import annotations

from ninja import Query, Router, Status

from kontor.core.access import Action
from kontor.core.api import MAX_LIMIT, MAX_OFFSET, DbInt, ErrorOut, page
from kontor.core.errors import NotFound

from . import queries, services
from .models import ApiToken, Department, Role, User, hash_token
from .schemas import (
    SCOPE_BY_NAME,
    DepartmentCreate,
    DepartmentOut,
    DepartmentPage,
    DepartmentPatch,
    PasswordIn,
    RoleCreate,
    RoleOut,
    RolePage,
    RolePatch,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserPage,
    UserPatch,
    VersionIn,
)

router = Router(tags=["accounts"])


def _grants(items) -> list[tuple[str, str, int]]:
    return [(g.object_type, g.action, SCOPE_BY_NAME[g.scope]) for g in items]


# -- users -------------------------------------------------------------------------------


@router.get("/users", response=UserPage, summary="List users")
def list_users(
    request,
    q: str = "",
    department_id: DbInt | None = None,
    active: bool | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    filters = queries.UserFilters(q=q, department_id=department_id, active=active)
    return page(queries.users(request.user, filters), limit, offset)


@router.get("/users/{int:user_id}", response=UserOut, summary="Get a user")
def get_user(request, user_id: int):
    return queries.users(request.user).get_visible(request.user, user_id)


@router.post("/users", response={201: UserOut}, summary="Create a user")
def create_user(request, payload: UserCreate):
    actor = request.user
    user = services.create_user(
        email=payload.email,
        password=payload.password,
        first_name=payload.first_name,
        last_name=payload.last_name,
        department=services.department_for(actor, payload.department_id),
        roles=services.roles_for(payload.role_ids),
        is_superuser=payload.is_superuser,
        actor=actor,
    )
    return Status(201, user)


@router.patch("/users/{int:user_id}", response=UserOut, summary="Change a user")
def patch_user(request, user_id: int, payload: UserPatch):
    actor = request.user
    user = User.objects.get_visible(actor, user_id)
    sent = payload.dict(exclude_unset=True)
    version = sent.pop("version")
    if "department_id" in sent:
        sent["department"] = services.department_for(actor, sent.pop("department_id"))
    role_ids = sent.pop("role_ids", None)
    if role_ids is not None:
        sent["roles"] = services.roles_for(role_ids)
    # A null for a text field or flag means "leave as is", not "clear".
    data = {k: v for k, v in sent.items() if v is not None or k == "department"}
    services.update_user(user, data, actor=actor, expected_version=version)
    return User.objects.get(pk=user.pk)


@router.post("/users/{int:user_id}/deactivate", response=UserOut, summary="Deactivate a user")
def deactivate_user(request, user_id: int, payload: VersionIn):
    user = User.objects.get_visible(request.user, user_id)
    services.deactivate_user(user, actor=request.user, expected_version=payload.version)
    return User.objects.get(pk=user.pk)


@router.post(
    "/users/{int:user_id}/password",
    response={204: None, 429: ErrorOut},
    summary="Set a password",
    description="Your own needs `current_password`; too many wrong ones answer 429 with "
    "`Retry-After` (seconds).",
)
def set_user_password(request, user_id: int, payload: PasswordIn):
    user = User.objects.get_visible(request.user, user_id)
    services.set_password(
        user,
        password=payload.password,
        current_password=payload.current_password,
        actor=request.user,
    )
    return Status(204, None)


# -- departments -------------------------------------------------------------------------


def _department_out(department: Department) -> dict:
    return {
        "id": department.pk,
        "name": department.name,
        "parent_id": department.parent_id,
        "depth": department.depth,
        "version": department.version,
    }


@router.get("/departments", response=DepartmentPage, summary="List departments as a tree")
def list_departments(
    request, limit: int = Query(1000, ge=1, le=1000), offset: int = Query(0, ge=0, le=MAX_OFFSET)
):
    """Depth-first, siblings by name; ``depth`` counts from the top of the whole tree."""
    tree = queries.department_tree(request.user)
    return {
        "items": [_department_out(d) for d in tree[offset : offset + limit]],
        "count": len(tree),
        "count_capped": False,
        "limit": limit,
        "offset": offset,
    }


@router.get("/departments/{int:department_id}", response=DepartmentOut)
def get_department(request, department_id: int):
    return _department_out(Department.objects.get_visible(request.user, department_id))


def _parent(actor, parent_id: int | None) -> Department | None:
    return services.department_for(actor, parent_id, field="parent_id")


@router.post("/departments", response={201: DepartmentOut}, summary="Create a department")
def create_department(request, payload: DepartmentCreate):
    department = services.create_department(
        name=payload.name, parent=_parent(request.user, payload.parent_id), actor=request.user
    )
    return Status(201, _department_out(Department.objects.get(pk=department.pk)))


@router.patch("/departments/{int:department_id}", response=DepartmentOut, summary="Rename or move")
def patch_department(request, department_id: int, payload: DepartmentPatch):
    actor = request.user
    department = Department.objects.get_visible(actor, department_id)
    sent = payload.dict(exclude_unset=True)
    version = sent["version"]
    if sent.get("name") is not None:
        department = services.rename_department(
            department, name=sent["name"], actor=actor, expected_version=version
        )
        version = department.version
    if "parent_id" in sent and sent["parent_id"] != department.parent_id:
        services.move_department(
            department,
            parent=_parent(actor, sent["parent_id"]),
            actor=actor,
            expected_version=version,
        )
    return _department_out(Department.objects.get(pk=department.pk))


@router.delete(
    "/departments/{int:department_id}", response={204: None}, summary="Delete an empty one"
)
def delete_department(request, department_id: int, version: DbInt | None = None):
    department = Department.objects.get_visible(request.user, department_id)
    services.delete_department(department, actor=request.user, expected_version=version)
    return Status(204, None)


# -- roles -------------------------------------------------------------------------------


@router.get("/roles", response=RolePage, summary="List roles with their grants")
def list_roles(
    request,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    return page(queries.roles(request.user), limit, offset)


@router.get("/roles/{int:role_id}", response=RoleOut)
def get_role(request, role_id: int):
    return queries.roles(request.user).get_visible(request.user, role_id)


@router.post("/roles", response={201: RoleOut}, summary="Create a role")
def create_role(request, payload: RoleCreate):
    role = services.create_role(
        name=payload.name,
        description=payload.description,
        grants=_grants(payload.grants),
        actor=request.user,
    )
    return Status(201, queries.roles(request.user).get(pk=role.pk))


@router.patch("/roles/{int:role_id}", response=RoleOut, summary="Change a role or its grants")
def patch_role(request, role_id: int, payload: RolePatch):
    role = Role.objects.get_visible(request.user, role_id)
    sent = payload.dict(exclude_unset=True)
    services.update_role(
        role,
        name=sent.get("name"),
        description=sent.get("description"),
        grants=None if payload.grants is None else _grants(payload.grants),
        actor=request.user,
        expected_version=sent["version"],
    )
    return queries.roles(request.user).get(pk=role.pk)


@router.delete("/roles/{int:role_id}", response={204: None}, summary="Delete a role")
def delete_role(request, role_id: int, version: DbInt | None = None):
    role = Role.objects.get_visible(request.user, role_id, Action.VIEW)
    services.delete_role(role, actor=request.user, expected_version=version)
    return Status(204, None)


# -- my API tokens -----------------------------------------------------------------------


@router.get("/tokens", response=list[TokenOut], summary="My API tokens")
def list_tokens(request):
    return list(queries.tokens_of(request.user))


@router.post("/tokens", response={201: TokenCreated}, summary="Create a token (shown once)")
def create_token(request, payload: TokenCreate):
    raw = services.issue_token(request.user, name=payload.name, actor=request.user)
    token = ApiToken.objects.get(token_hash=hash_token(raw))
    return Status(
        201, {"id": token.pk, "name": token.name, "prefix": token.key_prefix, "token": raw}
    )


@router.delete("/tokens/{int:token_id}", response={204: None}, summary="Revoke a token")
def revoke_token(request, token_id: int):
    token = queries.tokens_of(request.user).filter(pk=token_id).first()
    if token is None:
        raise NotFound()
    services.revoke_token(token, actor=request.user)
    return Status(204, None)
