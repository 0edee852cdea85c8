"""The RQ backend (KONTOR_TASKS_BACKEND=rq) on a real Redis: background jobs go to RQ, and
due timers are claimed from the database with a lease, then fired inside RQ jobs."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from kontor.core import events, jobs, timers
from kontor.core.models import Timer, TimerFiring

pytestmark = pytest.mark.django_db

KIND = "test.rq_timer"
BATCH = timers._CLAIM_BATCH


@pytest.fixture
def fired():
    calls = []
    timers.handle(KIND, lambda timer: calls.append(timer.pk))
    yield calls
    timers._handlers.pop(KIND, None)


def queued() -> int:
    import django_rq

    return django_rq.get_queue(jobs.QUEUE).count


def test_due_timers_are_claimed_here_and_fired_by_rq_workers(org, fired, rq_backend, settings):
    settings.KONTOR_TIMERS_QUEUED_BATCHES = 2
    due = [
        timers.schedule(KIND, user, timezone.now() - timedelta(seconds=1), name=str(n))
        for user in (org.member_a, org.member_b, org.member_c)
        for n in range(BATCH)
    ]

    # The pass claims no more batches than may wait in the queue, and fires none itself.
    assert events.run_pass() == 2 * BATCH
    assert queued() == 2 and fired == []
    claimed = Timer.objects.filter(claimed_until__gt=timezone.now(), status=Timer.Status.PENDING)
    assert claimed.count() == 2 * BATCH

    jobs.rq_worker().work(burst=True)
    assert queued() == 0 and len(fired) == 2 * BATCH
    events.run_pass()
    jobs.rq_worker().work(burst=True)

    assert sorted(fired) == sorted(t.pk for t in due)  # each once
    assert TimerFiring.objects.count() == len(due)
    # Every timer fired but the standing ones (the daily sweeps), always pending.
    assert not (
        Timer.objects.exclude(status=Timer.Status.FIRED)
        .exclude(object_type=timers.STANDING)
        .exists()
    )


def test_a_batch_whose_claim_lapsed_is_fired_once_by_its_new_claim(org, fired, rq_backend):
    timer = timers.schedule(KIND, org.member_a, timezone.now() - timedelta(seconds=1))
    assert events.run_pass() == 1
    # Its worker never came (killed): the lease lapses, the next pass claims it again.
    Timer.objects.filter(pk=timer.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert events.run_pass() == 1
    assert queued() == 2

    jobs.rq_worker().work(burst=True)

    assert fired == [timer.pk]  # the stale job's claim no longer holds: it fired nothing
    assert TimerFiring.objects.filter(timer_id=timer.pk).count() == 1


def test_a_reset_link_goes_through_an_rq_job(client, org, rq_backend):
    client.post(reverse("web:password_reset"), {"email": "anna@example.com"})
    assert not mail.outbox and queued() == 1

    jobs.rq_worker().work(burst=True)

    assert [m.to for m in mail.outbox] == [["anna@example.com"]]
