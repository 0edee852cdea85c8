"""/api/v1/duplicates and /api/v1/merges: candidate pairs, scans, merges and their undo."""

from __future__ import annotations

import datetime
from typing import Literal

from ninja import Query, Router, Schema, Status
from pydantic import Field

from kontor.core import types
from kontor.core.api import DbInt, ErrorOut, Page, Ref, StrictIn, page, ref
from kontor.core.errors import NotFound

from . import merge, services
from .models import Scan

router = Router(tags=["duplicates"])

TypeName = Literal["person", "company"]


def _object_type(name: str) -> str:
    rt = types.by_name(name)
    if rt is None or rt.object_type not in services.TYPES:
        raise NotFound()
    return rt.object_type


class CandidateOut(Schema):
    id: int
    type: str
    score: int = Field(description="100 for a shared email, phone or tax id; else name likeness")
    reasons: list[str] = Field(
        description="Why the pair is offered: a shared email, phone or tax_id alone; or an "
        "alike name (name, or same_name when equal) with what else both share: employer, "
        "birthday, address (people), city, website (companies), email_domain (not a public "
        "mail service), phone_ending (the last 7 digits)"
    )
    first: Ref
    second: Ref
    found_at: datetime.datetime


class CandidatePage(Page):
    items: list[CandidateOut]


class CandidateFilters(Schema):
    type: TypeName = "person"
    record_id: DbInt | None = Field(None, description="Only the pairs of this record")
    limit: int = 50
    offset: int = 0


def candidates_out(user, object_type: str, rows) -> list[dict]:
    name = merge.record_type_of(object_type).name
    return [
        {
            "id": row.pk,
            "type": name,
            "score": row.score,
            "reasons": row.reason_names,
            "first": ref(first),
            "second": ref(second),
            "found_at": row.found_at,
        }
        for row, first, second in services.named_pairs(user, object_type, rows)
    ]


@router.get("/duplicates", response=CandidatePage, operation_id="duplicates_list")
def list_candidates(request, filters: Query[CandidateFilters]):
    """Open pairs of possible duplicates whose two records you see, best first."""
    object_type = _object_type(filters.type)
    rows = services.visible_candidates(request.user, object_type, record_id=filters.record_id)
    answer = page(rows, filters.limit, filters.offset)
    answer["items"] = candidates_out(request.user, object_type, answer["items"])
    return answer


@router.post(
    "/duplicates/{int:candidate_id}/dismiss",
    response={204: None},
    operation_id="duplicates_dismiss",
)
def dismiss(request, candidate_id: int):
    """Not a duplicate: the pair is no longer offered, also after later scans."""
    services.dismiss(request.user, candidate_id)
    return Status(204, None)


class ScanIn(StrictIn):
    type: TypeName


class ScanOut(Schema):
    id: int
    type: str
    status: str = Field(description="queued, running, done, failed")
    percent: int
    pairs: int = Field(description="Open pairs found (when done)")
    created_at: datetime.datetime
    finished_at: datetime.datetime | None


def scan_out(scan: Scan) -> dict:
    return {
        "id": scan.pk,
        "type": types.get(scan.object_type).name,
        "status": scan.status,
        "percent": scan.percent,
        "pairs": scan.pairs,
        "created_at": scan.created_at,
        "finished_at": scan.finished_at,
    }


@router.post("/duplicates/scans", response={202: ScanOut}, operation_id="duplicates_scan")
def start_scan(request, payload: ScanIn):
    """Find duplicates of a type in the background (one scan of a type at a time)."""
    scan = services.start_scan(request.user, _object_type(payload.type))
    return Status(202, scan_out(scan))


@router.get("/duplicates/scans/{int:scan_id}", response=ScanOut, operation_id="duplicates_scan_get")
def get_scan(request, scan_id: int):
    scan = Scan.objects.filter(pk=scan_id).first()
    if scan is None or not services.may_scan(request.user, scan.object_type):
        raise NotFound()
    return scan_out(scan)


class MergeIn(StrictIn):
    type: TypeName
    survivor_id: DbInt = Field(description="The record that stays")
    merged_id: DbInt = Field(description="The record merged into it and removed")
    choices: dict[str, Literal["survivor", "merged", "both"]] = Field(
        {},
        description="Per field (first_name, custom.<name>, ...): whose value stays; per list "
        "(phones, emails, addresses, tags, ...): survivor, merged or both (the default). A "
        "field left out keeps the survivor's value, or the merged one's if the survivor's "
        "is empty",
    )
    versions: list[DbInt] | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="The survivor's and the merged record's versions you reviewed: a record "
        "changed since is a 409",
    )


class MergeOut(Schema):
    id: int
    type: str
    survivor: Ref
    merged_id: int
    merged_name: str
    at: datetime.datetime
    undone_at: datetime.datetime | None


def merge_out(user, log) -> dict:
    rt = merge.record_type_of(log.object_type)
    survivor = rt.visible(user).filter(pk=log.survivor_id).first()
    return {
        "id": log.pk,
        "type": rt.name,
        "survivor": ref(survivor) or {"id": log.survivor_id, "name": str(rt.hidden_name)},
        "merged_id": log.merged_id,
        "merged_name": log.merged_repr,
        "at": log.at,
        "undone_at": log.undone_at,
    }


@router.post(
    "/merges",
    response={201: MergeOut, 404: ErrorOut, 409: ErrorOut},
    operation_id="merges_create",
)
def create_merge(request, payload: MergeIn):
    """Merge one record into another: re-links everything pointing at it, removes it."""
    log = merge.merge(
        _object_type(payload.type),
        payload.survivor_id,
        payload.merged_id,
        actor=request.user,
        choices=payload.choices,
        versions=tuple(payload.versions) if payload.versions else None,
    )
    return Status(201, merge_out(request.user, log))


@router.post(
    "/merges/{int:merge_id}/undo",
    response={200: MergeOut, 409: ErrorOut},
    operation_id="merges_undo",
)
def undo_merge(request, merge_id: int):
    """Put the merged record back under its id and move its pointers back; a 409 if the
    survivor changed since the merge."""
    return merge_out(request.user, merge.undo(merge_id, actor=request.user))
