"""Throttling password guesses: at login (django-axes) and when changing one's own password.

Both count in the database, so every server process sees the same count, and both use
the same limit and cool-off (``AXES_FAILURE_LIMIT``, ``AXES_COOLOFF_TIME``).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kontor.core.errors import TooManyAttempts, ValidationFailed

from .models import PasswordGuess, User, normalize_email


def login_username(request, credentials: dict | None) -> str | None:
    """The key django-axes counts login failures under (``AXES_USERNAME_CALLABLE``).

    The email as the login matches it (``UserManager.get_by_natural_key``), so "Anna@…"
    and " anna@… " spend the same budget as "anna@…". Where it is read from, and None
    when there is none, are as in axes' own default.
    """
    source = credentials if credentials else getattr(request, "POST", {})
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    return None if username is None else normalize_email(username)


def _cooloff() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)


def _refusal() -> TooManyAttempts:
    minutes = max(1, round(_cooloff().total_seconds() / 60))
    message = ngettext(
        "Too many wrong passwords. Please wait %(minutes)d minute and try again.",
        "Too many wrong passwords. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    return TooManyAttempts(message, errors={"current_password": [message]})


def _count_guess(user: User) -> int:
    """Record a guess about to be checked; return how many came before it in the cool-off."""
    with transaction.atomic():
        # The user's row lock queues parallel guesses so that none overruns the limit.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        guesses = PasswordGuess.objects.filter(user=user)
        guesses.filter(at__lt=timezone.now() - _cooloff()).delete()
        earlier = guesses.count()
        if earlier >= settings.AXES_FAILURE_LIMIT:
            raise _refusal()
        PasswordGuess.objects.create(user=user)
    return earlier


def check_current_password(user: User, password: str) -> None:
    """Pass if ``password`` is the user's; raise ValidationFailed, or TooManyAttempts (429).

    A guess is counted before it is checked, and the check itself (slow by design) runs
    outside the counting transaction. The guess that reaches the limit is answered 429,
    like a login; from then on even the right password is refused unchecked until the
    cool-off passes. ``KONTOR_LOGIN_THROTTLE=false`` (``AXES_ENABLED``) turns it off too.
    """
    throttled = settings.AXES_ENABLED
    earlier = _count_guess(user) if throttled else 0
    if user.check_password(password):
        if throttled:
            PasswordGuess.objects.filter(user=user).delete()
        return
    if throttled and earlier + 1 >= settings.AXES_FAILURE_LIMIT:
        raise _refusal()
    raise ValidationFailed(errors={"current_password": [_("This is not your current password.")]})
