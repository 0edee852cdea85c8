"""Timers: work due at a moment (a reminder, a recurring task's next copy), done exactly once.

A timer is a row (``core.Timer``) a service writes in its own transaction: scheduled with
the change that calls for it, moved or cancelled with the change that moves or cancels
it. Workers (the dispatcher of ``kontor worker`` and of ``kontor serve``) claim due
timers with a lease (``core.leases``) and fire each in one transaction that holds the
handler's effects and a ``TimerFiring`` row unique on (timer, occurrence): a firing
either happened whole, once, or not at all (a claimed batch's fresh timers share one
such transaction: ``_fire_batch``). A worker killed mid-firing leaves nothing behind;
its lease lapses and another fires the timer. Two workers that both believe they hold
a timer (a lease that lapsed under a slow one) cannot both commit: the second ledger
row is refused. With the RQ job backend the dispatcher claims and RQ workers fire
(``hand_over_due``, ``fire_claimed``; ``kontor.core.jobs``). An effect outside the
database (an email) goes through the outbox from inside the firing, so it is sent
after commit, at least once, under a key.

A handler gets the timer and returns None, or the moment of its next occurrence (a
recurrence), which keeps the timer pending under a new occurrence.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import events, leases, modules
from .context import Channel, acting
from .models import Timer, TimerFiring

Handler = Callable[[Timer], datetime | None]

_CLAIM_BATCH = 50
_ERROR_CHARS = 4000
_handlers: dict[str, Handler] = {}


class LeaseLost(Exception):
    """The timer was moved, cancelled or taken over while this worker fired it."""


def handle(kind: str, handler: Handler) -> None:
    """Make ``handler`` fire the timers of ``kind`` (call from ``AppConfig.ready()``)."""
    _handlers[kind] = handler


def schedule(
    kind: str, about, due_at: datetime, *, name: str = "", payload=None, new: bool = False
) -> Timer:
    """Set the timer of ``kind`` (and ``name``) on the record ``about`` to ``due_at``,
    inside the caller's transaction: a new timer, or the existing one moved (and pending
    again, as a new occurrence, even if it had fired). ``new``: ``about`` was made in
    this transaction, so it has no timer to look for."""
    object_type, object_id = about._meta.label_lower, about.pk
    timer = (
        None
        if new
        else Timer.objects.filter(
            kind=kind, object_type=object_type, object_id=object_id, name=name
        ).first()
    )
    if timer is None:
        return Timer.objects.create(
            kind=kind,
            object_type=object_type,
            object_id=object_id,
            name=name,
            due_at=due_at,
            payload=payload or {},
        )
    # A worker firing the old occurrence now loses its claim and rolls back (LeaseLost).
    Timer.objects.filter(pk=timer.pk).update(
        due_at=due_at,
        occurrence=F("occurrence") + 1,
        payload=payload or {},
        status=Timer.Status.PENDING,
        claimed_until=None,
        claim_token="",
        attempts=0,
        last_error="",
    )
    timer.refresh_from_db()
    return timer


# A standing timer is about no record: periodic work of the whole system (the daily
# sweep of important dates). Its handler returns its next moment.
STANDING = ""
_standing: dict[str, Callable[[], datetime]] = {}


def standing(kind: str, handler: Handler, first_due: Callable[[], datetime]) -> None:
    """Make ``kind`` a timer that is always set: ``handler`` fires it and answers its next
    moment; a dispatcher that finds it missing sets it at ``first_due()``."""
    handle(kind, handler)
    _standing[kind] = first_due


def keep_standing(*, stop=None) -> int:
    """A dispatcher's pass: set each standing timer that is missing (a new database)."""
    present = set(
        Timer.objects.filter(kind__in=list(_standing), object_type=STANDING).values_list(
            "kind", flat=True
        )
    )
    for kind in _standing.keys() - present:
        # Two dispatchers starting together: the unique key keeps one row.
        Timer.objects.get_or_create(
            kind=kind,
            object_type=STANDING,
            object_id=0,
            name="",
            defaults={"due_at": _standing[kind]()},
        )
    return 0


def cancel(about, *, kind: str | None = None, name: str | None = None) -> int:
    """Remove the timers on ``about`` (of ``kind``, ``name`` if given); a firing under
    way rolls back. Returns how many went."""
    timers = Timer.objects.filter(object_type=about._meta.label_lower, object_id=about.pk)
    if kind is not None:
        timers = timers.filter(kind=kind)
    if name is not None:
        timers = timers.filter(name=name)
    return _removed(timers)


def cancel_all(object_type: str, ids: list[int]) -> int:
    """Remove every timer on these records (deleted ones)."""
    return _removed(Timer.objects.filter(object_type=object_type, object_id__in=ids))


def _removed(timers) -> int:
    return timers.delete()[1].get(Timer._meta.label, 0)


def fire_due(*, stop=None) -> int:
    """Fire every timer due now, a claimed batch at a time; returns how many fired.

    The dispatcher's pass, and the synchronous way for tests."""
    fired = 0
    while stop is None or not stop.is_set():
        batch = _claim()
        if not batch:
            break
        fired += _fire_batch(batch)
    return fired


def hand_over_due(hand_over, *, room, stop=None) -> int:
    """Claim due timers a batch at a time and give each batch, with its claim token, to
    ``hand_over`` (to fire elsewhere: ``fire_claimed``) while ``room()`` says more may
    wait; returns how many were handed over."""
    handed = 0
    while (stop is None or not stop.is_set()) and room() > 0:
        batch = _claim()
        if not batch:
            break
        hand_over([timer.pk for timer in batch], batch[0].claim_token)
        handed += len(batch)
    return handed


def fire_claimed(timer_ids: list[int], claim_token: str) -> int:
    """Fire the timers claimed under ``claim_token`` that the claim still holds (a lapsed
    one was claimed again and is another's now); returns how many fired."""
    claimed = Timer.objects.filter(
        id__in=timer_ids, claim_token=claim_token, status=Timer.Status.PENDING
    )
    # The lease runs from now, not from when the batch was queued.
    claimed.update(claimed_until=_lease_end())
    return _fire_batch(list(claimed.order_by("due_at", "id")))


def next_due() -> datetime | None:
    """When a pending timer is next due to be claimed: the earliest unclaimed one's due
    time, or a claimed one's lease end (the dispatcher sleeps no longer)."""
    now = timezone.now()
    pending = Timer.objects.filter(_not_paused(), status=Timer.Status.PENDING)
    moments = [
        pending.filter(leases.unclaimed(now)).order_by("due_at").values_list("due_at").first(),
        pending.filter(claimed_until__gte=now)
        .order_by("claimed_until")
        .values_list("claimed_until")
        .first(),
    ]
    return min((m[0] for m in moments if m is not None), default=None)


def _not_paused() -> Q:
    """The timers that may fire now: those of a module switched off for the whole
    company (``core.modules``) stay pending, however late, until it is on again."""
    paused = modules.paused_timer_kinds()
    return ~Q(kind__in=paused) if paused else Q()


def _claim() -> list[Timer]:
    claimed = leases.claim(
        Timer,
        pending_status=Timer.Status.PENDING,
        failed_status=Timer.Status.FAILED,
        limit=_CLAIM_BATCH,
        lease_seconds=settings.KONTOR_TIMERS_LEASE_SECONDS,
        max_attempts=settings.KONTOR_EVENTS_MAX_ATTEMPTS,
        only=_not_paused(),
    )
    return list(claimed)


def _held(timer: Timer):
    """The timer's row while this worker's claim on this occurrence holds."""
    return Timer.objects.filter(
        pk=timer.pk,
        claim_token=timer.claim_token,
        occurrence=timer.occurrence,
        status=Timer.Status.PENDING,
    )


def _lease_end() -> datetime:
    return leases.lease_end(timezone.now(), settings.KONTOR_TIMERS_LEASE_SECONDS)


def _fire_batch(batch: list[Timer]) -> int:
    """Fire a claimed batch: first its fresh timers together, in one transaction, while
    the claim is young; then alone (``_fire``) each one an earlier attempt left
    unfinished (it failed, or its worker died: perhaps because of it), and each fresh one
    if they could not commit together.

    One transaction a batch instead of one a firing: about half the statements and a
    fiftieth of the commits, which is what let three workers keep up with 10,000
    reminders due in a minute (docs/benchmarks.md, "Issue 13: timers at scale")."""
    retried = [timer for timer in batch if timer.attempts > 0]
    fresh = _count_attempts([timer for timer in batch if timer.attempts == 0])
    together = _fire_together(fresh) if fresh else 0
    if together is None:
        # Already counted: this is the same attempt, each timer on its own.
        together = sum(_fire(timer, counted=True) for timer in fresh)
    return together + sum(_fire(timer) for timer in retried)


def _count_attempts(fresh: list[Timer]) -> list[Timer]:
    """Count an attempt of each fresh timer the claim still holds, in one commit, and
    renew its lease; returns those. The others were moved, cancelled or taken over since
    the claim (its lease lapsed under a slow worker): their firing is another's now, not
    one more here under an attempt nobody counted."""
    if not fresh:
        return []
    ids = [timer.pk for timer in fresh]
    with transaction.atomic():
        held = set(
            Timer.objects.select_for_update()
            .filter(
                id__in=ids,
                claim_token=fresh[0].claim_token,
                status=Timer.Status.PENDING,
                attempts=0,
            )
            .values_list("id", flat=True)
        )
        Timer.objects.filter(id__in=held).update(
            attempts=F("attempts") + 1, claimed_until=_lease_end()
        )
    counted = [timer for timer in fresh if timer.pk in held]
    for timer in counted:
        timer.attempts += 1
    return counted


def _fire_together(batch: list[Timer]) -> int | None:
    """Fire fresh timers, their attempts counted (``_count_attempts``), in one
    transaction: every handler's effects, the ledger rows and the timers' new state commit
    together, or nothing does (None: fire them alone).

    Each attempt is counted first in its own commit, as ``_fire`` counts its own: if a
    handler takes the worker down, every timer of the batch comes back counted and is
    then fired alone, so the culprit alone is given up in the end."""
    token, ids = batch[0].claim_token, [timer.pk for timer in batch]
    held = Timer.objects.filter(id__in=ids, claim_token=token, status=Timer.Status.PENDING)
    try:
        with transaction.atomic(), acting(Channel.SYSTEM):
            recurring = {}
            for timer in batch:
                handler = _handlers.get(timer.kind)
                if handler is None:
                    raise LookupError(f"No timer handler is registered for {timer.kind!r} here.")
                next_due = handler(timer)
                if next_due is not None:
                    recurring[timer.pk] = next_due
            TimerFiring.objects.bulk_create(
                TimerFiring(timer_id=timer.pk, occurrence=timer.occurrence) for timer in batch
            )
            released = {"claimed_until": None, "claim_token": "", "last_error": ""}
            done = held.exclude(id__in=recurring).update(
                status=Timer.Status.FIRED, fired_at=timezone.now(), **released
            )
            for pk, next_due in recurring.items():
                done += held.filter(pk=pk).update(
                    due_at=next_due, occurrence=F("occurrence") + 1, attempts=0, **released
                )
            if done != len(batch):
                raise LeaseLost()
    except Exception:  # a handler's error, a lost claim, a refused ledger row
        return None
    return len(batch)


def _fire(timer: Timer, *, counted: bool = False) -> int:
    # The attempt is counted in its own commit first (unless ``counted`` already): a
    # firing that kills its worker every time is given up after
    # KONTOR_EVENTS_MAX_ATTEMPTS (core.leases).
    if not counted:
        if not _held(timer).update(attempts=F("attempts") + 1, claimed_until=_lease_end()):
            return 0
        timer.attempts += 1
    try:
        handler = _handlers.get(timer.kind)
        if handler is None:
            # A handler renamed or removed, or a release this process predates.
            raise LookupError(f"No timer handler is registered for {timer.kind!r} here.")
        with transaction.atomic(), acting(Channel.SYSTEM):
            # No savepoint of its own (two round trips a firing): a refused ledger row
            # ends the whole firing, which rolls back.
            try:
                TimerFiring.objects.create(timer_id=timer.pk, occurrence=timer.occurrence)
            except IntegrityError:
                raise LeaseLost() from None  # this occurrence fired under another worker
            next_due = handler(timer)
            if next_due is None:
                done = {"status": Timer.Status.FIRED, "fired_at": timezone.now()}
            else:
                done = {"due_at": next_due, "occurrence": F("occurrence") + 1, "attempts": 0}
            if not _held(timer).update(claimed_until=None, claim_token="", last_error="", **done):
                raise LeaseLost()
    except LeaseLost:
        # Moved, cancelled or fired by another worker meanwhile: theirs is the word.
        return 0
    except Exception:  # any handler error is recorded and retried, never lost
        _record_failure(timer, traceback.format_exc(limit=-8)[-_ERROR_CHARS:])
        return 0
    return 1


def _record_failure(timer: Timer, error: str) -> None:
    gave_up = timer.attempts >= settings.KONTOR_EVENTS_MAX_ATTEMPTS
    _held(timer).update(
        status=Timer.Status.FAILED if gave_up else Timer.Status.PENDING,
        due_at=timezone.now() + events.retry_delay(timer.attempts),
        claimed_until=None,
        claim_token="",
        last_error=error,
    )
