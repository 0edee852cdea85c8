"""Throttling: password guesses at login (django-axes) and when changing one's own password
(the same limit and cool-off, ``AXES_FAILURE_LIMIT``, ``AXES_COOLOFF_TIME``), and reset links
mailed (``KONTOR_RESET_MAIL_LIMIT``, ``KONTOR_RESET_MAIL_IP_LIMIT``).

All count in the database, so every server process sees the same count.
"""

from __future__ import annotations

import datetime
import math

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kontor.core.errors import TooManyAttempts, ValidationFailed, with_retry_after

from .models import Attempt, User, normalize_email


def login_username(request, credentials: dict | None) -> str | None:
    """The key django-axes counts login failures under (``AXES_USERNAME_CALLABLE``).

    The email as the login matches it (``UserManager.get_by_natural_key``), so "Anna@…"
    and " anna@… " spend the same budget as "anna@…". Where it is read from, and None
    when there is none, are as in axes' own default.
    """
    source = credentials if credentials else getattr(request, "POST", {})
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    return None if username is None else normalize_email(username)


def login_lockout(request, original_response=None, credentials: dict | None = None):
    """Axes' lockout page (``AXES_LOCKOUT_CALLABLE``), telling when logging in works again.

    Axes locks while the failures under the email or under the IP address reach the limit
    within the cool-off; those stop counting one cool-off after the last of them (a
    refused attempt is not recorded), so ``Retry-After`` is that moment.
    """
    AxesProxyHandler.update_request(request)
    attempts = AxesProxyHandler.get_implementation().get_user_attempts(request, credentials)
    locking = [
        totals["last"]
        for totals in (
            qs.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            for qs in attempts
        )
        if (totals["failures"] or 0) >= settings.AXES_FAILURE_LIMIT
    ]
    retry_after = None
    if locking:
        left = max(locking) + _cooloff() - timezone.now()
        retry_after = max(1, math.ceil(left.total_seconds()))
    wait = datetime.timedelta(seconds=retry_after) if retry_after else _cooloff()
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_timedelta": wait}
    page = render(
        request, settings.AXES_LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
    return with_retry_after(page, retry_after)


def _cooloff() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def _seconds_until_free(attempts, bound: int, window: datetime.timedelta, now) -> int:
    """Seconds until fewer than ``bound`` of ``attempts`` are left in ``window``."""
    # The bound-th newest attempt: when it leaves the window, a place is free.
    frees = attempts.order_by("-at").values_list("at", flat=True)[bound - 1]
    return max(1, math.ceil((frees + window - now).total_seconds()))


def _count(
    kind: str, user: User, window: datetime.timedelta, limit: int, *, client_ip=None, ip_limit=0
) -> tuple[int, int]:
    """Record one ``kind`` attempt about ``user`` unless a limit is reached: the one counter.

    At most ``limit`` attempts about ``user`` within ``window``, and with ``client_ip``
    at most ``ip_limit`` from that address. Returns (attempts about ``user`` before this
    one, 0) when recorded; else, recording nothing, (that count, seconds until an
    attempt leaves the window and frees a place).
    """
    now = timezone.now()
    with transaction.atomic():
        # The user's row lock queues parallel attempts about one user so that none
        # overruns the limit (on SQLite every write transaction queues anyway).
        User.objects.select_for_update().filter(pk=user.pk).exists()
        attempts = Attempt.objects.filter(kind=kind)
        attempts.filter(at__lt=now - window).delete()
        about_user = attempts.filter(user=user)
        earlier = about_user.count()
        bounds = [(about_user, earlier, limit)]
        if client_ip:
            from_ip = attempts.filter(client_ip=client_ip)
            bounds.append((from_ip, from_ip.count(), ip_limit))
        for counted, count, bound in bounds:
            if count >= bound:
                return earlier, _seconds_until_free(counted, bound, window, now)
        Attempt.objects.create(kind=kind, user=user, client_ip=client_ip or None, at=now)
    return earlier, 0


def _refusal(retry_after: int) -> TooManyAttempts:
    minutes = _minutes(retry_after)
    message = ngettext(
        "Too many wrong passwords. Please wait %(minutes)d minute and try again.",
        "Too many wrong passwords. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    return TooManyAttempts(message, errors={"current_password": [message]}, retry_after=retry_after)


def check_current_password(user: User, password: str) -> None:
    """Pass if ``password`` is the user's; raise ValidationFailed, or TooManyAttempts (429).

    A guess is counted before it is checked, and the check itself (slow by design) runs
    outside the counting transaction. The guess that reaches the limit is answered 429,
    like a login; from then on even the right password is refused unchecked until the
    cool-off passes. ``KONTOR_LOGIN_THROTTLE=false`` (``AXES_ENABLED``) turns it off too.
    """
    throttled = settings.AXES_ENABLED
    earlier = 0
    if throttled:
        limit = settings.AXES_FAILURE_LIMIT
        earlier, wait = _count(Attempt.Kind.PASSWORD_GUESS, user, _cooloff(), limit)
        if wait:
            raise _refusal(wait)
    if user.check_password(password):
        if throttled:
            Attempt.objects.filter(kind=Attempt.Kind.PASSWORD_GUESS, user=user).delete()
        return
    if throttled and earlier + 1 >= settings.AXES_FAILURE_LIMIT:
        guesses = Attempt.objects.filter(kind=Attempt.Kind.PASSWORD_GUESS, user=user)
        limit = settings.AXES_FAILURE_LIMIT
        raise _refusal(_seconds_until_free(guesses, limit, _cooloff(), timezone.now()))
    raise ValidationFailed(errors={"current_password": [_("This is not your current password.")]})


RESET_MAIL_WINDOW = datetime.timedelta(hours=1)


def reset_mail_wait(user: User, *, client_ip: str | None = None) -> int:
    """Count a reset link about to be mailed to ``user``: 0 if it may go, else seconds to wait.

    At most ``KONTOR_RESET_MAIL_LIMIT`` links per user an hour, from every channel (forgot
    password, an administrator's button), and with ``client_ip`` (forgot password) at
    most ``KONTOR_RESET_MAIL_IP_LIMIT`` an hour requested from that address: a stranger
    cannot make Kontor flood anyone's inbox.
    """
    return _count(
        Attempt.Kind.RESET_MAIL,
        user,
        RESET_MAIL_WINDOW,
        settings.KONTOR_RESET_MAIL_LIMIT,
        client_ip=client_ip,
        ip_limit=settings.KONTOR_RESET_MAIL_IP_LIMIT,
    )[1]
