"""Domain events through a persistent outbox: dotted, past-tense names ("contacts.person.created").

A service calls ``emit`` (a bulk write ``emit_audited``) inside its transaction: the event
is a row written with the change it reports, so a rolled-back write announces nothing
and a committed one is never lost. After commit a dispatcher (``kontor worker``, and a
thread inside ``kontor serve``) fans each event out to the handlers subscribed to its
type, one delivery per (event, handler), and runs every delivery at least once, handing
the handler the delivery's idempotency key. A failing handler is retried with
exponential backoff, then marked failed for an administrator to see and retry.

Every event type, its payload and when it is emitted: docs/events.md.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, leases
from .access import Action, Scope, scope_for
from .context import Channel, acting
from .errors import NotFound, PermissionDenied
from .models import AuditEntry, OutboxDelivery, OutboxEvent

log = logging.getLogger(__name__)

# Grants on this object type open the deliveries page: "view" to see, "edit" to retry,
# both with the scope "everything" (deliveries belong to no owner or department).
OBJECT_TYPE = "core.event"

_FAN_OUT_BATCH = 500
_CLAIM_BATCH = 20
_ERROR_CHARS = 4000


@dataclass(frozen=True)
class Event:
    """What a handler receives: the event, and the key that names this delivery of it."""

    id: int
    type: str
    payload: dict
    occurred_at: datetime
    idempotency_key: str


Handler = Callable[[Event], None]


@dataclass(frozen=True)
class Subscription:
    pattern: str  # an event type, or a shell pattern: "contacts.person.*", "*"
    handler: Handler
    name: str

    def matches(self, event_type: str) -> bool:
        return fnmatch.fnmatchcase(event_type, self.pattern)


_subscriptions: dict[str, Subscription] = {}
_matching: dict[str, list[Subscription]] = {}


def subscribe(pattern: str, handler: Handler, *, name: str | None = None) -> Subscription:
    """Register ``handler`` for events whose type matches ``pattern`` (from AppConfig.ready()).

    ``name`` identifies the handler in deliveries and their idempotency keys, so it must
    stay the same across releases; by default it is the handler's dotted path.
    """
    name = name or f"{handler.__module__}.{handler.__qualname__}"
    subscription = Subscription(pattern, handler, name)
    existing = _subscriptions.get(name)
    if existing is not None and existing != subscription:
        raise ValueError(f"Another event handler is already subscribed as {name!r}.")
    _subscriptions[name] = subscription
    _matching.clear()
    return subscription


def unsubscribe(name: str) -> None:
    _subscriptions.pop(name, None)
    _matching.clear()


def subscriptions_for(event_type: str) -> list[Subscription]:
    if event_type not in _matching:
        _matching[event_type] = [s for s in _subscriptions.values() if s.matches(event_type)]
    return _matching[event_type]


# -- writing events -------------------------------------------------------------------

# Every record written through kontor.core.services (and the bulk import) announces
# "<app>.<model>.<verb>" with one payload shape: docs/events.md, "Record events".
RECORD_VERBS = ("created", "updated", "deleted")


def record_payload(object_type: str, object_id: int, actor, changes: dict) -> dict:
    """The payload of a record event; ``changes`` is its audit entry's ``{field: [old, new]}``."""
    return {
        "object_type": object_type,
        "object_id": object_id,
        "actor_id": getattr(actor, "pk", None),
        "changes": changes,
    }


def emit(event_type: str, **payload) -> None:
    """Write one event in the current transaction; it is delivered after the commit."""
    OutboxEvent.objects.create(type=event_type, payload=payload)
    transaction.on_commit(nudge)


def emit_audited(action: str, object_type: str, object_ids: list[int]) -> None:
    """Write the record events of audit entries this transaction has just written.

    For a bulk write: the database builds each payload from its entry (``action`` on
    ``object_type``, one per id: ids are never reused), as ``record_payload`` would, with
    no JSON encoded in Python; at 10,000 rows a batch that was most of what an event
    cost the import.
    """
    if not object_ids:
        return
    # jsonb_build_object / json_object: record_payload's fields, read from the entry.
    if connection.vendor == "postgresql":
        build, ids_match, ids = "jsonb_build_object", "= ANY(%s)", list(object_ids)
        changes, fanned_out = "changes", "false"
    else:
        build, ids_match, ids = "json_object", "IN (SELECT value FROM json_each(%s))", None
        changes, fanned_out = "json(changes)", "0"
        ids = json.dumps(list(object_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {OutboxEvent._meta.db_table} (type, payload, occurred_at, fanned_out) "
            f"SELECT action, {build}('object_type', object_type, 'object_id', object_id, "
            f"'actor_id', actor_id, 'changes', {changes}), at, {fanned_out} "
            f"FROM {AuditEntry._meta.db_table} "
            f"WHERE object_type = %s AND action = %s AND object_id {ids_match} ORDER BY id",
            [object_type, action, ids],
        )
    transaction.on_commit(nudge)


# -- dispatching ----------------------------------------------------------------------

# Set after a commit that wrote events: the in-process dispatcher wakes at once instead
# of at its next poll. Other processes (a separate ``kontor worker``) find them by polling.
_wakeup = threading.Event()


def nudge() -> None:
    _wakeup.set()


def deliver_pending(*, stop: threading.Event | None = None) -> int:
    """Fan out new events and run every delivery due now; returns how many ran.

    The dispatcher's one pass, and the synchronous way for tests: call it where the old
    design ran handlers on commit. Safe beside other dispatchers (each row is claimed).
    """
    ran = 0
    while stop is None or not stop.is_set():
        fanned = _fan_out(_FAN_OUT_BATCH)
        claimed = _claim(_CLAIM_BATCH)
        for delivery in claimed:
            _run(delivery)
        ran += len(claimed)
        if not fanned and not claimed:
            break
    return ran


def _fan_out(limit: int) -> int:
    """Make the deliveries of up to ``limit`` new events, in one transaction."""
    now = timezone.now()
    new_events = OutboxEvent.objects.filter(fanned_out=False)
    # A plain read first: an idle dispatcher never takes SQLite's write lock.
    if not new_events.exists():
        return 0
    with transaction.atomic():
        # PostgreSQL: each dispatcher takes events no other is fanning out. SQLite: the
        # IMMEDIATE transaction already holds the only write lock (Django skips the clause).
        new = list(
            new_events.select_for_update(skip_locked=True)
            .order_by("id")
            .values_list("id", "type")[:limit]
        )
        if not new:
            return 0
        OutboxDelivery.objects.bulk_create(
            OutboxDelivery(event_id=pk, handler=s.name, due_at=now)
            for pk, event_type in new
            for s in subscriptions_for(event_type)
        )
        OutboxEvent.objects.filter(id__in=[pk for pk, _type in new]).update(fanned_out=True)
    return len(new)


def _claim(limit: int) -> list[OutboxDelivery]:
    """Lease up to ``limit`` due deliveries to this dispatcher."""
    claimed = leases.claim(
        OutboxDelivery,
        pending_status=OutboxDelivery.Status.PENDING,
        failed_status=OutboxDelivery.Status.FAILED,
        limit=limit,
        lease_seconds=settings.KONTOR_EVENTS_LEASE_SECONDS,
        max_attempts=settings.KONTOR_EVENTS_MAX_ATTEMPTS,
    )
    return list(claimed.select_related("event"))


def _lease_end(now: datetime) -> datetime:
    return leases.lease_end(now, settings.KONTOR_EVENTS_LEASE_SECONDS)


def _start(delivery: OutboxDelivery) -> bool:
    """Count the attempt and renew the lease for it; False if the claim is no longer ours."""
    now = timezone.now()
    started = OutboxDelivery.objects.filter(
        pk=delivery.pk, claim_token=delivery.claim_token, status=OutboxDelivery.Status.PENDING
    ).update(attempts=F("attempts") + 1, last_attempt_at=now, claimed_until=_lease_end(now))
    delivery.attempts += 1
    return bool(started)


def _run(delivery: OutboxDelivery) -> None:
    # Counted when it starts, not when claimed: the rest of a claimed batch a dead
    # dispatcher never began keeps its attempts.
    if not _start(delivery):
        return
    event = delivery.event
    subscription = _subscriptions.get(delivery.handler)
    try:
        if subscription is None:
            # A handler renamed or removed, or a release this process predates.
            raise LookupError(f"No event handler is subscribed as {delivery.handler!r} here.")
        envelope = Event(
            id=event.pk,
            type=event.type,
            payload=event.payload,
            occurred_at=event.occurred_at,
            idempotency_key=delivery.idempotency_key,
        )
        with acting(Channel.SYSTEM):
            if connection.in_atomic_block:
                # Inside an open transaction (a test calling deliver_pending) a failing
                # handler rolls back alone, to a savepoint.
                with transaction.atomic():
                    subscription.handler(envelope)
            else:
                subscription.handler(envelope)
    except Exception:  # any handler error is recorded and retried, never lost
        _record_failure(delivery, traceback.format_exc(limit=-8)[-_ERROR_CHARS:])
    else:
        OutboxDelivery.objects.filter(pk=delivery.pk, status=OutboxDelivery.Status.PENDING).update(
            status=OutboxDelivery.Status.DONE,
            claimed_until=None,
            done_at=timezone.now(),
            last_error="",
        )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failure, capped."""
    seconds = settings.KONTOR_EVENTS_RETRY_SECONDS * 2 ** min(attempts - 1, 32)
    return timedelta(seconds=min(seconds, settings.KONTOR_EVENTS_RETRY_CAP_SECONDS))


def _record_failure(delivery: OutboxDelivery, error: str) -> None:
    gave_up = delivery.attempts >= settings.KONTOR_EVENTS_MAX_ATTEMPTS
    # Only while the claim is still ours: a dispatcher that took over decides now.
    OutboxDelivery.objects.filter(
        pk=delivery.pk, claim_token=delivery.claim_token, status=OutboxDelivery.Status.PENDING
    ).update(
        status=OutboxDelivery.Status.FAILED if gave_up else OutboxDelivery.Status.PENDING,
        due_at=timezone.now() + retry_delay(delivery.attempts),
        claimed_until=None,
        last_error=error,
    )


def purge_delivered(*, keep_days: float | None = None, batch: int = 1000) -> int:
    """Remove events older than ``keep_days`` whose every delivery is done (or that had
    no handler), with their deliveries; returns how many events went. A pending or
    failed delivery keeps its event, whatever its age."""
    days = settings.KONTOR_EVENTS_KEEP_DAYS if keep_days is None else keep_days
    cutoff = timezone.now() - timedelta(days=days)
    unfinished = OutboxDelivery.objects.filter(event=OuterRef("pk")).exclude(
        status=OutboxDelivery.Status.DONE
    )
    purgeable = OutboxEvent.objects.filter(fanned_out=True, occurred_at__lt=cutoff).exclude(
        Exists(unfinished)
    )
    removed = 0
    while ids := list(purgeable.order_by("id").values_list("id", flat=True)[:batch]):
        # Small transactions: SQLite's one write lock is never held long.
        with transaction.atomic():
            OutboxDelivery.objects.filter(event_id__in=ids).delete()
            OutboxEvent.objects.filter(id__in=ids).delete()
        removed += len(ids)
    return removed


_PURGE_EVERY = timedelta(hours=1)


# Other due work each dispatcher pass runs (timers, background jobs): called with
# ``stop``, each returns how much it ran; and what tells when more is due, so that an
# idle dispatcher wakes then rather than at its next poll.
_passes: list[Callable[..., int]] = []
_next_due: list[Callable[[], datetime | None]] = []
_MIN_IDLE_SECONDS = 0.05


def add_pass(
    run: Callable[..., int], *, next_due: Callable[[], datetime | None] | None = None
) -> None:
    if run not in _passes:
        _passes.append(run)
    if next_due is not None and next_due not in _next_due:
        _next_due.append(next_due)


def _idle_seconds(poll: float) -> float:
    """How long an idle dispatcher waits: its poll, or less if work comes due sooner."""
    wait = poll
    now = timezone.now()
    for when in _next_due:
        due = when()
        if due is not None:
            wait = min(wait, (due - now).total_seconds())
    # A floor: work due but not to be had (an RQ queue full) must not spin the loop.
    return max(wait, _MIN_IDLE_SECONDS)


def run_pass(*, stop: threading.Event | None = None) -> int:
    """One pass of a dispatcher: the events, then the other due work (timers)."""
    ran = deliver_pending(stop=stop)
    for other in _passes:
        ran += other(stop=stop)
    return ran


def run_dispatcher(stop: threading.Event, *, poll_seconds: float | None = None) -> None:
    """Deliver until ``stop`` is set: at once when nudged, else every ``poll_seconds``;
    purge what was delivered long ago once an hour."""
    poll = settings.KONTOR_EVENTS_POLL_SECONDS if poll_seconds is None else poll_seconds
    next_purge = timezone.now()
    while not stop.is_set():
        _wakeup.clear()
        ran, idle = 0, poll
        try:
            close_old_connections()
            ran = run_pass(stop=stop)
            if timezone.now() >= next_purge:
                next_purge = timezone.now() + _PURGE_EVERY
                purge_delivered()
            if not ran:
                idle = _idle_seconds(poll)
        except Exception:  # a lost database must not end the dispatcher: retry next poll
            log.exception("Event dispatch failed; retrying in %s s", poll)
        if not ran:
            _wakeup.wait(idle)
    close_old_connections()


_thread_lock = threading.Lock()
_thread: threading.Thread | None = None


def start_dispatcher_thread() -> threading.Thread:
    """Run the dispatcher in this process's background (``kontor serve``), once."""
    global _thread
    with _thread_lock:
        if _thread is None:
            _thread = threading.Thread(
                target=run_dispatcher, args=(threading.Event(),), name="kontor-events", daemon=True
            )
            _thread.start()
    return _thread


# -- administration: the deliveries page and ``kontor events`` --------------------------


RETRYABLE = (OutboxDelivery.Status.FAILED, OutboxDelivery.Status.PENDING)


def may_view_deliveries(user) -> bool:
    return scope_for(user, OBJECT_TYPE, Action.VIEW) == Scope.ALL


def may_retry(user) -> bool:
    return scope_for(user, OBJECT_TYPE, Action.EDIT) == Scope.ALL


def deliveries(user, status: str):
    """Deliveries in ``status``, newest first; nothing for a user who may not see them."""
    if not may_view_deliveries(user):
        return OutboxDelivery.objects.none()
    return OutboxDelivery.objects.filter(status=status).select_related("event").order_by("-id")


def retry(actor, delivery_ids: Iterable[int] | None = None) -> int:
    """Make deliveries due now with a fresh set of attempts; returns how many.

    Without ids: every failed delivery. With ids: those of them that are failed or
    waiting; an unknown id, or one already done or running, is refused.
    """
    if not may_retry(actor):
        raise PermissionDenied()
    now = timezone.now()
    chosen = OutboxDelivery.objects.filter(leases.unclaimed(now))
    if delivery_ids is None:
        chosen = chosen.filter(status=OutboxDelivery.Status.FAILED)
    else:
        wanted = set(delivery_ids)
        chosen = chosen.filter(id__in=wanted, status__in=RETRYABLE)
    with transaction.atomic():
        rows = list(chosen.select_for_update().order_by("id"))
        if delivery_ids is not None and len(rows) != len(wanted):
            missing = sorted(wanted - {d.pk for d in rows})
            raise NotFound(
                _("No failed or waiting delivery with the id %(ids)s.")
                % {"ids": ", ".join(map(str, missing))}
            )
        for delivery in rows:
            audit.record(
                f"{OutboxDelivery._meta.label_lower}.retried",
                delivery,
                actor=actor,
                changes={"status": [delivery.status, OutboxDelivery.Status.PENDING]},
            )
        OutboxDelivery.objects.filter(id__in=[d.pk for d in rows]).update(
            status=OutboxDelivery.Status.PENDING,
            due_at=now,
            attempts=0,
            claimed_until=None,
        )
        transaction.on_commit(nudge)
    return len(rows)
