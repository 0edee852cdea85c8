"""Domain events: dotted, past-tense names ("contacts.person.created").

Handlers run after the emitting transaction commits, never inside it, so a rolled-back
write announces nothing. Each event's payload is documented where it is emitted.
"""

from collections import defaultdict
from collections.abc import Callable

from django.db import transaction

_handlers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def subscribe(event_type: str, handler: Callable[..., None]) -> None:
    _handlers[event_type].append(handler)


def emit(event_type: str, **payload) -> None:
    def dispatch():
        for handler in _handlers.get(event_type, ()):
            handler(event_type=event_type, **payload)

    transaction.on_commit(dispatch)
