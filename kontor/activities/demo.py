"""B. Company's year of work: tasks, calls, notes and emails about its clients.

Written through the bulk import (the single write's rules, audit, search and timeline
links) by the employee who owns each client; the past is then dated back, as the
import stamps records with the moment it runs.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from kontor.core import bulk
from kontor.core.access import SYSTEM
from kontor.core.models import TimelineLink

from .entry_types import CALL, EMAIL, NOTE
from .models import Call, Task
from .types import TASK

PRODUCTS = [
    "cement",
    "rebar",
    "roof tiles",
    "plasterboard",
    "mineral wool insulation",
    "facing bricks",
    "ready-mix concrete",
    "sawn timber",
    "waterproofing membrane",
    "tile adhesive",
]
CALL_SUMMARIES = [
    "Asked for a quote on {product}.",
    "Confirmed delivery of {product} for next week.",
    "Complained about a late delivery of {product}; promised to check with logistics.",
    "Wants a discount on {product} for a larger order.",
    "Discussed payment terms for the {product} order.",
    "Asked whether {product} is in stock.",
    "Follow-up on the sent offer for {product}.",
]
NOTE_TEXTS = [
    "Prefers to be called in the morning.",
    "Building a warehouse this spring; will need {product}.",
    "Competitor offered {product} cheaper; we should review our price.",
    "Met at the trade fair; interested in {product}.",
    "Decision maker is the chief engineer; send offers to him too.",
    "Pays on time; can be offered deferred payment.",
    "New site opening in the autumn, large volume of {product} expected.",
]
TASK_TITLES = [
    "Send the offer for {product}",
    "Call back about {product}",
    "Prepare the contract",
    "Check the delivery date of {product}",
    "Send the invoice",
    "Agree on a site visit",
    "Collect the signed delivery note",
]
EMAIL_SUBJECTS = [
    "Offer: {product}",
    "Re: delivery of {product}",
    "Invoice for {product}",
    "Price list {year}",
    "Re: order confirmation",
]
DAYS = 365


@dataclass(frozen=True)
class Client:
    """A person the demo writes about, with the employee and department that have them."""

    person_id: int
    owner_id: int
    department_id: int | None
    email: str
    phone: str


def load(clients: list[Client], rng: random.Random, *, per_client: float = 1.0) -> dict:
    """Write a year of activities about ``clients``; answer the counts written."""
    now = timezone.now()
    notes, calls, emails, tasks = [], [], [], []
    for client in clients:
        for _ in range(_count(rng, 1.0 * per_client)):
            notes.append(_note(rng, client, now))
        for _ in range(_count(rng, 1.5 * per_client)):
            calls.append(_call(rng, client, now))
        for _ in range(_count(rng, 0.5 * per_client)):
            emails.append(_email(rng, client, now))
        for _ in range(_count(rng, 0.6 * per_client)):
            tasks.append(_task(rng, client, now))
    for record_type, rows in ((NOTE, notes), (CALL, calls), (EMAIL, emails), (TASK, tasks)):
        result = bulk.import_rows(record_type, rows, actor=SYSTEM)
        if result.errors:
            raise RuntimeError(f"demo data rejected: {result.errors[:5]}")
        if record_type is TASK:
            _date_back_tasks(result.ids, rows)
    return {"notes": len(notes), "calls": len(calls), "emails": len(emails), "tasks": len(tasks)}


def _count(rng: random.Random, mean: float, trials: int = 4) -> int:
    """A small count around ``mean`` (at most ``trials``): some clients get several,
    some nothing."""
    return sum(rng.random() < mean / trials for _ in range(trials))


def _moment(rng: random.Random, now: datetime.datetime, *, ahead_days: int = 0):
    """A working-hours moment within the last year (or the next ``ahead_days``)."""
    day = now - datetime.timedelta(days=rng.randrange(-ahead_days, DAYS))
    return timezone.localtime(day).replace(
        hour=rng.randrange(8, 18), minute=rng.choice([0, 15, 30, 45]), second=0, microsecond=0
    )


def _placed(client: Client, row: dict) -> dict:
    return {
        **row,
        "owner_id": client.owner_id,
        "department_id": client.department_id,
        "links": [f"person:{client.person_id}"],
    }


def _note(rng, client: Client, now) -> dict:
    text = rng.choice(NOTE_TEXTS).format(product=rng.choice(PRODUCTS))
    return _placed(client, {"body": text, "noted_at": _moment(rng, now)})


def _call(rng, client: Client, now) -> dict:
    planned = rng.random() < 0.08
    outcome = (
        Call.Outcome.PLANNED
        if planned
        else rng.choices(
            [
                Call.Outcome.ANSWERED,
                Call.Outcome.NO_ANSWER,
                Call.Outcome.BUSY,
                Call.Outcome.VOICEMAIL,
            ],
            weights=[70, 15, 5, 10],
        )[0]
    )
    answered = outcome == Call.Outcome.ANSWERED
    return _placed(
        client,
        {
            "direction": rng.choice(["in", "out", "out"]),
            "their_number": client.phone,
            "started_at": _moment(rng, now, ahead_days=7 if planned else 0),
            "outcome": outcome,
            "duration_seconds": rng.randrange(30, 900) if answered else None,
            "summary": rng.choice(CALL_SUMMARIES).format(product=rng.choice(PRODUCTS))
            if answered
            else "",
        },
    )


def _email(rng, client: Client, now) -> dict:
    sent = _moment(rng, now)
    subject = rng.choice(EMAIL_SUBJECTS).format(product=rng.choice(PRODUCTS), year=sent.year)
    inbound = rng.random() < 0.4
    ours = "sales@bcompany.example"
    return _placed(
        client,
        {
            "direction": "in" if inbound else "out",
            "subject": subject,
            "from_address": client.email if inbound else ours,
            "to_addresses": ours if inbound else client.email,
            "sent_at": sent,
            "body_text": "Good day,\n\nplease find the details below.\n\nKind regards",
        },
    )


def _task(rng, client: Client, now) -> dict:
    due = _moment(rng, now, ahead_days=30)
    past = due < now
    status = (
        rng.choices([Task.Status.DONE, Task.Status.CANCELLED, Task.Status.OPEN], [85, 5, 10])[0]
        if past
        else rng.choices([Task.Status.OPEN, Task.Status.IN_PROGRESS], [80, 20])[0]
    )
    return _placed(
        client,
        {
            "title": rng.choice(TASK_TITLES).format(product=rng.choice(PRODUCTS)),
            "due_date": due.date(),
            "due_time": due.time() if rng.random() < 0.3 else None,
            "priority": rng.choices([1, 2, 3, 4], [10, 60, 25, 5])[0],
            "status": status,
            "_set_days_before": rng.randrange(1, 14),
        },
    )


def _date_back_tasks(ids: list[int], rows: list[dict]) -> None:
    """Each task set some days before it was due, and completed about then."""
    tasks = []
    for pk, row in zip(ids, rows, strict=True):
        due = datetime.datetime.combine(row["due_date"], row["due_time"] or datetime.time(9))
        due = timezone.make_aware(due)
        task = Task(pk=pk, created_at=due - datetime.timedelta(days=row["_set_days_before"]))
        task.completed_at = due if row["status"] == Task.Status.DONE else None
        tasks.append(task)
    Task.objects.bulk_update(tasks, ["created_at", "completed_at"], batch_size=2000)
    TimelineLink.objects.filter(entry_type=TASK.object_type).update(
        occurred_at=Subquery(Task.objects.filter(pk=OuterRef("entry_id")).values("created_at")[:1])
    )
