"""Which modules are off for whom, cached per process (``kontor.core.modules`` asks here).

The switches are read again only when their token (``core.stamps``, "modules") moved:
every change replaces it in its transaction, so each process follows without a restart,
and a request reads the token once. A user's answer is kept on the user object (one
request) with the token it was made under.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kontor.core import modules, stamps

from .models import ModuleSwitch

STAMP = "modules"


@dataclass(frozen=True)
class Switches:
    token: str
    company_off: frozenset[str] = frozenset()
    # department id -> {module code: on}
    overrides: dict[int, dict[str, bool]] = field(default_factory=dict)

    def off_for_chain(self, chain: list[int]) -> frozenset[str]:
        """Off for a member of the last department of ``chain`` (root first): the nearest
        department's override of each module, else the company's switch."""
        if not self.overrides:
            return self.company_off
        off = set()
        for module in modules.all_modules():
            on = module.code not in self.company_off
            for department_id in chain:
                on = self.overrides.get(department_id, {}).get(module.code, on)
            if not on:
                off.add(module.code)
        return frozenset(off)

    def off_everywhere(self) -> frozenset[str]:
        """Off for the company and switched on for no department."""
        on_somewhere = {
            code for override in self.overrides.values() for code, on in override.items() if on
        }
        return self.company_off - on_somewhere


_cached = Switches(token="\0")  # no token is this: the first call loads


def switches() -> Switches:
    global _cached
    token = stamps.current(STAMP)
    cached = _cached
    if cached.token == token:
        return cached
    company_off, overrides = set(), {}
    for code, department_id, on in ModuleSwitch.objects.values_list(
        "module", "department_id", "enabled"
    ):
        if department_id is None:
            if not on:
                company_off.add(code)
        else:
            overrides.setdefault(department_id, {})[code] = on
    loaded = Switches(token, frozenset(company_off), overrides)
    # One assignment: a thread reading meanwhile gets the old switches or the new, whole.
    _cached = loaded
    return loaded


def department_chain(department) -> list[int]:
    """The ids of ``department`` and those above it, root first (its materialised path)."""
    return [int(part) for part in department.path.strip("/").split("/") if part]


class SwitchState:
    """``kontor.core.modules.State`` from the switches."""

    def off_for(self, user) -> frozenset[str]:
        current = switches()
        memo = getattr(user, "_modules_off", None)
        if memo is not None and memo[0] == current.token:
            return memo[1]
        if getattr(user, "is_superuser", False):
            # Administrators of everything see a module wherever it is in use.
            off = current.off_everywhere()
        elif current.overrides and getattr(user, "department_id", None):
            off = current.off_for_chain(department_chain(user.department))
        else:
            off = current.company_off
        user._modules_off = (current.token, off)
        return off

    def off_everywhere(self) -> frozenset[str]:
        return switches().off_everywhere()
