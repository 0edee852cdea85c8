"""Claiming rows with a lease: how workers share due work (outbox deliveries, timers).

A worker claims due rows by writing its own token and a lease's end on them in one short
transaction: on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` first, so workers take
different rows; on SQLite the ``IMMEDIATE`` transaction holds the one write lock and
the conditional ``UPDATE`` re-checks each row under it. A row whose lease lapsed (its
worker died) is due again for any worker: nothing claimed is lost.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone


def unclaimed(now: datetime) -> Q:
    """Rows no live lease holds."""
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def lease_end(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


ABANDONED = "The worker stopped while it ran, on every attempt."


def claim(
    model,
    *,
    pending_status: str,
    failed_status: str,
    limit: int,
    lease_seconds: float,
    max_attempts: int,
    only: Q | None = None,
):
    """Lease up to ``limit`` of ``model``'s rows due now (``pending_status``, ``due_at``
    past, no live lease) to a new token; returns those rows, earliest due first (a
    queryset, empty if none was due).

    ``only`` narrows the rows that may be claimed (timers of a paused module wait).
    A due row that ``max_attempts`` attempts already started (each took its worker down:
    an ending attempt clears its lease) gets ``failed_status`` instead of another try.
    """
    now = timezone.now()
    due = Q(status=pending_status, due_at__lte=now) & unclaimed(now) & (only or Q())
    # A plain read first: an idle worker never takes SQLite's write lock.
    if not model.objects.filter(due).exists():
        return model.objects.none()
    token = uuid.uuid4().hex
    with transaction.atomic():
        model.objects.filter(due, attempts__gte=max_attempts).update(
            status=failed_status, claimed_until=None, last_error=ABANDONED
        )
        ids = list(
            model.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("due_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return model.objects.none()
        # Conditional: on SQLite this re-check under the write lock is the claim itself.
        model.objects.filter(due, id__in=ids).update(
            claimed_until=lease_end(now, lease_seconds), claim_token=token
        )
    return model.objects.filter(claim_token=token).order_by("due_at", "id")
