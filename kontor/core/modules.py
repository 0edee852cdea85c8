"""Modules: the blocks of Kontor a company switches on and off, for everyone or per department.

A module (contacts, tasks and calendar, sales, products ...) is registered by its own app
in ``AppConfig.ready()`` with what it owns: record types (by object type), pages (URL
view names, a pattern such as ``"sales:*"`` or ``"activities:task_*"``), API routers
and timer kinds. Generic code asks here whether one of those is on for a user and never
names a module. Whether a module is on is the answer of the state app
(``kontor.modules``), installed with ``set_state``; without one everything is on.

What is not registered in a module (accounts, settings, search, audit, custom objects,
imports, timeline entries) belongs to the platform and is always on.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.http import Http404
from django.urls import Resolver404, get_script_prefix, resolve


@dataclass(frozen=True)
class Module:
    code: str  # stable: switches are stored under it ("sales")
    label: str
    description: str = ""  # what it holds, for the administrator switching it
    order: int = 100
    object_types: tuple[str, ...] = ()  # model labels of its record types ("sales.deal")
    pages: tuple[str, ...] = ()  # view-name patterns of its UI pages ("sales:*")
    routers: tuple = ()  # its ninja routers: every operation answers 404 while it is off
    timer_kinds: tuple[str, ...] = ()  # paused while it is off for the whole company


class State(Protocol):
    def off_for(self, user) -> frozenset[str]:
        """The codes of the modules off for ``user``."""

    def off_everywhere(self) -> frozenset[str]:
        """The codes of the modules off for the company and for every department."""


_modules: dict[str, Module] = {}
_module_of_type: dict[str, str] = {}
_state: State | None = None


def register(module: Module) -> Module:
    """Add a module (from its app's ``AppConfig.ready()``, before the URLs are built):
    its routers get the gate that answers 404 while it is off for the caller."""
    if module.code in _modules:
        raise ValueError(f"A module {module.code!r} is registered already.")
    _modules[module.code] = module
    _own(module.code, module.object_types, module.routers)
    return module


def extend(code: str, **parts) -> Module:
    """Add to a registered module what another app holds of it (the calendar's meetings
    to "tasks and calendar", the duplicates pages to contacts): ``object_types``,
    ``pages``, ``routers``, ``timer_kinds``."""
    module = _modules[code]
    _modules[code] = dataclasses.replace(
        module, **{name: getattr(module, name) + tuple(value) for name, value in parts.items()}
    )
    _own(code, parts.get("object_types", ()), parts.get("routers", ()))
    return _modules[code]


def _own(code: str, object_types, routers) -> None:
    for object_type in object_types:
        _module_of_type[object_type] = code
    for router in routers:
        router.add_decorator(_api_gate(code), mode="operation")
        _mark_operations(router, code)
    _module_of_page.cache_clear()


# An operation's OpenAPI entry names its module (``KontorAPI`` declares its 404 from it).
OPENAPI_MODULE = "x-kontor-module"


def _mark_operations(router, code: str) -> None:
    for path_view in router.path_operations.values():
        for operation in path_view.operations:
            operation.openapi_extra = {**(operation.openapi_extra or {}), OPENAPI_MODULE: code}
    # Sub-routers (sales' pipelines, quotes, plans, reports) get the gate from their
    # parent when mounted; ninja keeps them as (prefix, router, tags).
    for _prefix, child, *_tags in router._routers:
        _mark_operations(child, code)


def all_modules() -> list[Module]:
    return sorted(_modules.values(), key=lambda module: module.order)


def get(code: str) -> Module | None:
    return _modules.get(code)


def set_state(state: State | None) -> None:
    global _state
    _state = state


def off_for(user) -> frozenset[str]:
    return _state.off_for(user) if _state is not None else frozenset()


def enabled(user, code: str) -> bool:
    return code not in off_for(user)


def type_enabled(user, object_type: str) -> bool:
    """Whether records of ``object_type`` are shown to ``user`` (a type no module owns is)."""
    code = _module_of_type.get(object_type)
    return code is None or enabled(user, code)


@functools.cache
def _module_of_page(view_name: str) -> str | None:
    for module in _modules.values():
        if any(fnmatch.fnmatchcase(view_name, pattern) for pattern in module.pages):
            return module.code
    return None


def page_enabled(user, view_name: str) -> bool:
    """Whether the page named ``view_name`` ("sales:deal_list") is open to ``user``."""
    code = _module_of_page(view_name)
    return code is None or enabled(user, code)


@functools.lru_cache(maxsize=1024)
def _view_name_of(path: str) -> str:
    try:
        return resolve(path).view_name
    except Resolver404:
        return ""


def link_enabled(user, url: str) -> bool:
    """Whether the page a link of the app opens (a menu entry's) is open to ``user``."""
    prefix = get_script_prefix()
    path = "/" + url[len(prefix) :] if url.startswith(prefix) else url
    return page_enabled(user, _view_name_of(path))


def paused_timer_kinds() -> list[str]:
    """The timer kinds not to fire now: those of modules off everywhere."""
    if _state is None:
        return []
    off = _state.off_everywhere()
    return [kind for code in off if code in _modules for kind in _modules[code].timer_kinds]


def _api_gate(code: str) -> Callable:
    def decorate(view):
        @functools.wraps(view)
        def gated(request, *args, **kwargs):
            if not enabled(request.user, code):
                raise Http404()
            return view(request, *args, **kwargs)

        return gated

    return decorate
