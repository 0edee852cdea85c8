"""Duplicate candidates as a user sees them, dismissing a pair, running a scan."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kontor.core.access import Action, may
from kontor.core.errors import NotFound, PermissionDenied

from . import finder
from .merge import record_type_of
from .models import Candidate, Scan

TYPES = tuple(finder.SPECS)
STALE_AFTER = datetime.timedelta(hours=6)


def visible_candidates(user, object_type: str, *, record_id: int | None = None):
    """Open pairs of ``object_type`` whose two records ``user`` may both see."""
    rt = record_type_of(object_type)
    visible = rt.visible(user).values("pk")
    pairs = Candidate.objects.filter(
        object_type=object_type,
        dismissed_at__isnull=True,
        first_id__in=visible,
        second_id__in=visible,
    )
    if record_id is not None:
        pairs = pairs.filter(Q(first_id=record_id) | Q(second_id=record_id))
    return pairs


def candidate_for(user, candidate_id: int) -> Candidate:
    """One open pair whose records ``user`` sees, else NotFound (as if absent)."""
    row = Candidate.objects.filter(pk=candidate_id).only("object_type").first()
    if row is None or row.object_type not in TYPES:
        raise NotFound()
    found = visible_candidates(user, row.object_type).filter(pk=candidate_id).first()
    if found is None:
        raise NotFound()
    return found


def named_pairs(user, object_type: str, rows) -> list[tuple]:
    """``rows`` (candidates) with their two records, read for their names: (candidate,
    first, second); a pair one of whose records went meanwhile is left out."""
    rt = record_type_of(object_type)
    ids = {pk for row in rows for pk in (row.first_id, row.second_id)}
    named = {r.pk: r for r in rt.visible(user).filter(pk__in=ids)}
    return [
        (row, named[row.first_id], named[row.second_id])
        for row in rows
        if row.first_id in named and row.second_id in named
    ]


def records_of(user, candidate: Candidate) -> tuple:
    rt = record_type_of(candidate.object_type)
    found = {
        r.pk: r for r in rt.visible(user).filter(pk__in=[candidate.first_id, candidate.second_id])
    }
    if len(found) != 2:
        raise NotFound()
    return found[candidate.first_id], found[candidate.second_id]


def dismiss(user, candidate_id: int) -> Candidate:
    """ "Not a duplicate": the pair leaves the list and is not offered again."""
    candidate = candidate_for(user, candidate_id)
    if not may(user, candidate.object_type, Action.EDIT):
        raise PermissionDenied()
    candidate.dismissed_at = timezone.now()
    candidate.dismissed_by = user
    candidate.save(update_fields=["dismissed_at", "dismissed_by"])
    return candidate


def may_scan(user, object_type: str) -> bool:
    return may(user, object_type, Action.EDIT)


def start_scan(user, object_type: str) -> Scan:
    """Queue a scan of ``object_type`` (one at a time per type: a running one is
    answered instead of a second)."""
    record_type_of(object_type)
    if not may_scan(user, object_type):
        raise PermissionDenied()
    with transaction.atomic():
        # A scan whose worker was killed stays "running": after a while it is let go.
        running = Scan.objects.filter(
            object_type=object_type,
            status__in=[Scan.Status.QUEUED, Scan.Status.RUNNING],
            created_at__gte=timezone.now() - STALE_AFTER,
        ).first()
        if running is not None:
            return running
        scan = Scan.objects.create(object_type=object_type, started_by=user)
        from .jobs import run_scan

        run_scan.enqueue(scan.pk)
    return scan


def latest_scan(object_type: str) -> Scan | None:
    return Scan.objects.filter(object_type=object_type).first()


def scan_progress(scan: Scan, done: int, total: int) -> None:
    Scan.objects.filter(pk=scan.pk).update(done=done, total=total)


def run(scan: Scan) -> Scan:
    """Find and store the pairs of ``scan``'s type, telling its progress as it goes."""
    Scan.objects.filter(pk=scan.pk).update(status=Scan.Status.RUNNING)
    spec = finder.SPECS[scan.object_type]
    try:
        stored = finder.scan(spec, lambda done, total: scan_progress(scan, done, total))
    except Exception as exc:
        Scan.objects.filter(pk=scan.pk).update(
            status=Scan.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        raise
    Scan.objects.filter(pk=scan.pk).update(
        status=Scan.Status.DONE, finished_at=timezone.now(), pairs=stored
    )
    scan.refresh_from_db()
    return scan
