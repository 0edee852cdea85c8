"""API shapes of users, departments, roles and tokens; no password or token hash ever leaves."""

from __future__ import annotations

import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import StrictBool

from kontor.core.access import Scope
from kontor.core.api import DbInt, Page

ScopeName = Literal["own", "department", "subtree", "all"]
ActionName = Literal["view", "create", "edit", "delete", "export"]

SCOPE_BY_NAME = {
    "own": Scope.OWN,
    "department": Scope.DEPARTMENT,
    "subtree": Scope.SUBTREE,
    "all": Scope.ALL,
}
NAME_BY_SCOPE = {v: k for k, v in SCOPE_BY_NAME.items()}


class RoleRef(Schema):
    id: int
    name: str
    # The built-in roles' names translated (Accept-Language); other roles' name as is.
    display_name: str


class UserOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    full_name: str
    department_id: int | None
    department_name: str | None
    is_active: bool
    is_superuser: bool
    roles: list[RoleRef]
    date_joined: datetime.datetime
    last_login: datetime.datetime | None
    version: int

    @staticmethod
    def resolve_full_name(obj) -> str:
        return obj.get_full_name()

    @staticmethod
    def resolve_department_name(obj) -> str | None:
        return obj.department.name if obj.department_id else None

    @staticmethod
    def resolve_roles(obj) -> list:
        return list(obj.roles.all())


class UserPage(Page):
    items: list[UserOut]


class UserCreate(Schema):
    email: str = Field(max_length=254)
    password: str | None = Field(None, max_length=128)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    department_id: DbInt | None = None
    role_ids: list[DbInt] = []
    is_superuser: StrictBool = False


class UserPatch(Schema):
    """Only the fields sent are changed; ``version`` is the one the client read."""

    version: DbInt
    email: str | None = Field(None, max_length=254)
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    time_zone: str | None = Field(None, max_length=64)
    language: str | None = Field(None, max_length=10)
    department_id: DbInt | None = None
    role_ids: list[DbInt] | None = None
    is_active: StrictBool | None = None
    is_superuser: StrictBool | None = None


class VersionIn(Schema):
    version: DbInt | None = None


class PasswordIn(Schema):
    password: str = Field(max_length=128)
    current_password: str | None = Field(None, max_length=128)


class DepartmentOut(Schema):
    id: int
    name: str
    parent_id: int | None
    depth: int
    version: int


class DepartmentPage(Page):
    items: list[DepartmentOut]


class DepartmentCreate(Schema):
    name: str = Field(max_length=150)
    parent_id: DbInt | None = None


class DepartmentPatch(Schema):
    """``name`` renames; ``parent_id`` (null for top level) moves."""

    version: DbInt
    name: str | None = Field(None, max_length=150)
    parent_id: DbInt | None = None


class GrantIO(Schema):
    object_type: str = Field(max_length=100)
    action: ActionName
    scope: ScopeName


class RoleOut(Schema):
    id: int
    name: str
    display_name: str
    description: str
    is_builtin: bool
    grants: list[GrantIO]
    version: int

    @staticmethod
    def resolve_grants(obj) -> list[dict]:
        return [
            {"object_type": g.object_type, "action": g.action, "scope": NAME_BY_SCOPE[g.scope]}
            for g in obj.grants.all()
        ]


class RolePage(Page):
    items: list[RoleOut]


class RoleCreate(Schema):
    name: str = Field(max_length=100)
    description: str = ""
    grants: list[GrantIO] = []


class RolePatch(Schema):
    version: DbInt
    name: str | None = Field(None, max_length=100)
    description: str | None = None
    grants: list[GrantIO] | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(alias="key_prefix")
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    is_active: bool


class TokenCreate(Schema):
    name: str = Field("", max_length=100)


class TokenCreated(Schema):
    """The only response that ever carries the token itself."""

    id: int
    name: str
    prefix: str
    token: str
