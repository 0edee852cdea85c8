"""Timers fire once, with their effects, or not at all (kontor.core.timers)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kontor.core import timers
from kontor.core.models import OutboxEvent, Timer, TimerFiring

pytestmark = pytest.mark.django_db

KIND = "test.timer"


@pytest.fixture
def fired(settings):
    """The handler of KIND: emits an event per firing (an effect in the firing's
    transaction); a test may set ``next_due``, ``fail`` or ``meddle`` on the namespace."""
    settings.KONTOR_EVENTS_MAX_ATTEMPTS = 3
    calls = []

    class Behaviour:
        next_due = None
        fail = False
        meddle = None

    def handler(timer):
        calls.append((timer.pk, timer.occurrence))
        OutboxEvent.objects.create(type=KIND, payload={"timer": timer.pk})
        if Behaviour.meddle:
            Behaviour.meddle(timer)
        if Behaviour.fail:
            raise RuntimeError("the handler broke")
        return Behaviour.next_due

    timers.handle(KIND, handler)
    Behaviour.calls = calls
    yield Behaviour
    timers._handlers.pop(KIND, None)


def effects() -> int:
    return OutboxEvent.objects.filter(type=KIND).count()


def test_a_due_timer_fires_once_and_a_future_one_waits(org, fired):
    now = timezone.now()
    due = timers.schedule(KIND, org.member_a, now - timedelta(seconds=1))
    later = timers.schedule(KIND, org.member_b, now + timedelta(hours=1))

    assert timers.fire_due() == 1
    assert timers.fire_due() == 0
    due.refresh_from_db()
    assert due.status == Timer.Status.FIRED and due.fired_at is not None
    assert list(TimerFiring.objects.values_list("timer_id", "occurrence")) == [(due.pk, 1)]
    assert Timer.objects.get(pk=later.pk).status == Timer.Status.PENDING
    assert fired.calls == [(due.pk, 1)] and effects() == 1


def test_moving_a_timer_makes_a_new_occurrence_even_after_it_fired(org, fired):
    past = timezone.now() - timedelta(seconds=1)
    timer = timers.schedule(KIND, org.member_a, past)
    timers.fire_due()
    moved = timers.schedule(KIND, org.member_a, past, payload={"minutes": 15})
    assert moved.pk == timer.pk and moved.occurrence == 2
    assert moved.status == Timer.Status.PENDING and moved.payload == {"minutes": 15}
    # A second timer of the same kind on the same record needs its own name.
    other = timers.schedule(KIND, org.member_a, past, name="day before")
    assert other.pk != timer.pk

    assert timers.fire_due() == 2
    assert fired.calls[1:] == [(timer.pk, 2), (other.pk, 1)]
    assert timers.cancel(org.member_a, kind=KIND) == 2
    assert not Timer.objects.exists() and not TimerFiring.objects.exists()


def test_a_recurring_timer_stays_pending_as_its_next_occurrence(org, fired):
    timer = timers.schedule(KIND, org.member_a, timezone.now() - timedelta(seconds=1))
    next_week = timezone.now() + timedelta(days=7)
    fired.next_due = next_week

    assert timers.fire_due() == 1
    timer.refresh_from_db()
    assert (timer.status, timer.occurrence, timer.due_at) == (Timer.Status.PENDING, 2, next_week)
    assert timer.claim_token == "" and timer.claimed_until is None and timer.attempts == 0


def test_a_failing_handler_leaves_no_effect_and_is_retried_then_given_up(org, fired):
    timer = timers.schedule(KIND, org.member_a, timezone.now() - timedelta(seconds=1))
    fired.fail = True
    for attempt in (1, 2, 3):
        Timer.objects.filter(pk=timer.pk).update(due_at=timezone.now())  # skip the backoff
        assert timers.fire_due() == 0
        timer.refresh_from_db()
        assert timer.attempts == attempt and "the handler broke" in timer.last_error
    assert timer.status == Timer.Status.FAILED
    assert effects() == 0 and not TimerFiring.objects.exists()


def test_a_timer_taken_over_or_already_fired_meanwhile_rolls_back_its_firing(org, fired):
    timer = timers.schedule(KIND, org.member_a, timezone.now() - timedelta(seconds=1))

    # Another worker claimed it after this one's lease lapsed.
    fired.meddle = lambda t: Timer.objects.filter(pk=t.pk).update(claim_token="x" * 32)
    assert timers.fire_due() == 0
    assert effects() == 0 and not TimerFiring.objects.exists()

    # This occurrence's firing is in the ledger already.
    fired.meddle = None
    Timer.objects.filter(pk=timer.pk).update(claimed_until=None, claim_token="")
    TimerFiring.objects.create(timer=timer, occurrence=1)
    assert timers.fire_due() == 0
    assert effects() == 0 and TimerFiring.objects.count() == 1


def test_a_timer_taken_over_after_its_batch_was_claimed_is_left_to_its_new_claim(org, fired):
    past = timezone.now() - timedelta(seconds=1)
    kept = timers.schedule(KIND, org.member_a, past)
    taken = timers.schedule(KIND, org.member_b, past)
    batch = timers._claim()
    # Its lease lapsed under this slow worker, and another worker claimed it.
    Timer.objects.filter(pk=taken.pk).update(claim_token="x" * 32)

    assert timers._fire_batch(batch) == 1
    # Its handler did not run here, on an attempt its row does not count: the new claim's
    # first attempt is its first.
    assert fired.calls == [(kept.pk, 1)]
    taken.refresh_from_db()
    assert (taken.status, taken.attempts, taken.claim_token) == ("pending", 0, "x" * 32)


def test_a_batch_fires_its_fresh_timers_before_those_an_earlier_attempt_left(org, fired):
    past = timezone.now() - timedelta(seconds=1)
    retried = timers.schedule(KIND, org.member_a, past)
    Timer.objects.filter(pk=retried.pk).update(attempts=1)
    fresh = timers.schedule(KIND, org.member_b, past)

    assert timers.fire_due() == 2
    # Together at once, while the claim is young; those fired alone after them renew
    # their own claims one by one.
    assert fired.calls == [(fresh.pk, 1), (retried.pk, 1)]
    assert dict(Timer.objects.values_list("pk", "attempts")) == {fresh.pk: 1, retried.pk: 2}


def test_a_timer_whose_handler_this_process_lacks_waits_with_the_reason(org):
    timer = timers.schedule("test.unknown", org.member_a, timezone.now())
    assert timers.fire_due() == 0
    timer.refresh_from_db()
    assert timer.status == Timer.Status.PENDING and "test.unknown" in timer.last_error
    assert timer.due_at > timezone.now()
