"""Who is acting and through which channel, for audit rows written deep inside services.

Set by the UI middleware, the API auth, the CLI and importers; services read it. A
contextvar (not a thread-local) so it is right under ASGI too.
"""

import contextlib
import contextvars
import uuid
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


class Channel:
    UI = "ui"
    API = "api"
    IMPORT = "import"
    SYSTEM = "system"

    choices = [(UI, _("UI")), (API, _("API")), (IMPORT, _("Import")), (SYSTEM, _("System"))]


@dataclass(frozen=True)
class ActingContext:
    channel: str = Channel.SYSTEM
    request_id: str = ""


_current: contextvars.ContextVar[ActingContext | None] = contextvars.ContextVar(
    "kontor_acting_context", default=None
)
_DEFAULT = ActingContext()


def current() -> ActingContext:
    return _current.get() or _DEFAULT


@contextlib.contextmanager
def acting(channel: str, request_id: str | None = None):
    """Run the block as coming through ``channel`` (ui, api, import, system)."""
    token = _current.set(ActingContext(channel, request_id or uuid.uuid4().hex))
    try:
        yield
    finally:
        _current.reset(token)
