"""B. Company's year of meetings with its clients, through the bulk import (contacts as
participants, on their timelines), by the employee who owns each client."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from kontor.activities.demo import PRODUCTS, Client
from kontor.core import bulk
from kontor.core.access import SYSTEM

from .types import MEETING

TITLES = [
    "Site visit: {product}",
    "Offer presentation",
    "Contract talks",
    "Quarterly review",
    "Delivery planning: {product}",
]
PLACES = ["Client's office", "Our showroom", "Building site", "Video call"]
DAYS = 365


def load(clients: list[Client], rng: random.Random, *, share: float = 0.2) -> int:
    """About ``share`` meetings a client over the last year and the next month; answer
    how many were written."""
    now = timezone.localtime()
    rows = [_meeting(rng, client, now) for client in clients if rng.random() < share]
    result = bulk.import_rows(MEETING, rows, actor=SYSTEM)
    if result.errors:
        raise RuntimeError(f"demo data rejected: {result.errors[:5]}")
    return result.created


def _meeting(rng: random.Random, client: Client, now: datetime.datetime) -> dict:
    day = now.date() - datetime.timedelta(days=rng.randrange(-30, DAYS))
    start = timezone.make_aware(
        datetime.datetime.combine(day, datetime.time(rng.randrange(9, 17), rng.choice([0, 30])))
    )
    return {
        "title": rng.choice(TITLES).format(product=rng.choice(PRODUCTS)),
        "start": start,
        "end": start + datetime.timedelta(minutes=rng.choice([30, 60, 90])),
        "place": rng.choice(PLACES),
        "people_ids": [client.person_id],
        "owner_id": client.owner_id,
        "department_id": client.department_id,
    }
