"""Notifications: what a user should see, in the bell and by email when left unseen.

``notify`` writes one in the caller's transaction (a reminder's firing) and sets a timer:
if it is still unread after ``KONTOR_NOTIFICATION_EMAIL_MINUTES``, the timer's firing
emits ``activities.notification.unseen``, whose outbox handler mails it (after commit,
at least once; a mail already sent is not sent again). Each user reads and marks only
their own.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kontor.core import events, timers, types

from .models import Notification

EMAIL_TIMER = "activities.notification_email"
UNSEEN_EVENT = "activities.notification.unseen"
MAIL_HANDLER = "activities.mail_unseen_notification"


def notify(recipient, kind: str, title: str, *, about=None) -> Notification | None:
    """A notification for ``recipient`` (none for a deactivated or missing user)."""
    if recipient is None or not recipient.is_active:
        return None
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        title=title[:300],
        object_type=about._meta.label_lower if about is not None else "",
        object_id=about.pk if about is not None else None,
    )
    if recipient.email:
        wait = timedelta(minutes=settings.KONTOR_NOTIFICATION_EMAIL_MINUTES)
        timers.schedule(EMAIL_TIMER, notification, notification.created_at + wait, new=True)
    return notification


def inbox(user):
    return Notification.objects.filter(recipient=user)


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return inbox(user).filter(read_at=None).count()


def mark_read(user, ids=None) -> int:
    """Mark ``user``'s notifications read (those of ``ids``, or all); returns how many."""
    unread = inbox(user).filter(read_at=None)
    if ids is not None:
        unread = unread.filter(id__in=list(ids))
    return unread.update(read_at=timezone.now())


def target_url(notification: Notification, user) -> str:
    """The page of the record it is about, if ``user`` may still see that record."""
    return target_urls([notification], user)[notification.pk]


def target_urls(page: list[Notification], user) -> dict[int, str]:
    """``target_url`` of each notification of a page, one query per type they name."""
    ids_by_type: dict[str, set[int]] = {}
    for notification in page:
        if notification.object_type:
            ids_by_type.setdefault(notification.object_type, set()).add(notification.object_id)
    urls: dict[tuple[str, int], str] = {}
    for object_type, ids in ids_by_type.items():
        entry = types.get(object_type)
        if entry is not None:
            for obj in entry.visible(user).filter(pk__in=ids).only("pk"):
                urls[(object_type, obj.pk)] = entry.url_of(obj)
    return {n.pk: urls.get((n.object_type, n.object_id), "") for n in page}


def email_if_unseen(timer) -> None:
    """The email timer's handler: still unread, not yet mailed: ask for the mail."""
    unseen = Notification.objects.filter(
        pk=timer.object_id, read_at=None, emailed_at=None, recipient__is_active=True
    )
    if unseen.exists():
        events.emit(UNSEEN_EVENT, notification_id=timer.object_id)


def mail_unseen(event) -> None:
    """The outbox handler of ``UNSEEN_EVENT``: mail the notification, once it is sure
    to be unread and unmailed, in its recipient's language."""
    notification = (
        Notification.objects.select_related("recipient")
        .filter(pk=event.payload["notification_id"], read_at=None, emailed_at=None)
        .first()
    )
    if notification is None or not notification.recipient.is_active:
        return
    recipient = notification.recipient
    url = target_url(notification, recipient)
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        body = notification.title
        if url:
            body = f"{body}\n\n{settings.KONTOR_PUBLIC_URL.rstrip('/')}{url}"
        body += "\n\n" + _("You have this mail because you had not seen it in Kontor.")
        send_mail(notification.title, body, None, [recipient.email])
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
