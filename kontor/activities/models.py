"""Work and communication: tasks (and next the timeline's notes, calls, emails, meetings).

A task's owner is its assignee, the one who does it: access, the lists "assigned to
me" and the owner filter read the owner like any record's. ``created_by`` is who set it.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kontor.core.models import BusinessRecord


def _choice_label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


class Task(BusinessRecord):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("task", "open")
        IN_PROGRESS = "in_progress", pgettext_lazy("task", "in progress")
        DONE = "done", pgettext_lazy("task", "done")
        CANCELLED = "cancelled", pgettext_lazy("task", "cancelled")

    class Priority(models.IntegerChoices):
        LOW = 1, pgettext_lazy("priority", "low")
        NORMAL = 2, pgettext_lazy("priority", "normal")
        HIGH = 3, pgettext_lazy("priority", "high")
        URGENT = 4, pgettext_lazy("priority", "urgent")

    # Still to do: open or in progress.
    ACTIVE = (Status.OPEN, Status.IN_PROGRESS)

    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default="open")
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    # A time of day makes the task due at a moment, not just on a day.
    due_time = models.TimeField(_("due time"), null=True, blank=True)
    # When the assignee is reminded (a notification, and an email if unseen).
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True, editable=False)
    # An RFC 5545 RRULE (kontor.core.recurrence): when its due moment comes, the next copy
    # is made and the rule goes on in it. ``repeat_start`` is the series' first due
    # moment (the rule's DTSTART: COUNT and BYDAY are counted from it).
    repeat = models.CharField(_("repeat"), max_length=500, blank=True)
    repeat_start = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # The tasks this one waits on: it cannot be done while any of them is still to do.
    waits_on = models.ManyToManyField(
        "self", symmetrical=False, related_name="blocks", blank=True, verbose_name=_("waits on")
    )
    # Who follows it beside its assignee and who set it: they hear of comments and of
    # changes of status, while they may see it.
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="watched_tasks",
        blank=True,
        verbose_name=_("watchers"),
    )

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["title", "id"], name="task_title"),
            models.Index(fields=["due_date", "due_time", "id"], name="task_due"),
            # My day walks one owner's tasks of one status in due order (views._section).
            models.Index(
                fields=["owner", "status", "due_date", "due_time", "id"], name="task_owner_due"
            ),
            models.Index(fields=["department", "due_date", "id"], name="task_dept_due"),
            models.Index(fields=["updated_at", "id"], name="task_updated"),
        ]

    def __str__(self):
        return self.title

    def search_text(self) -> str:
        return f"{self.title} {self.description}"

    def audit_snapshot(self) -> dict:
        from kontor.core.services import field_snapshot

        snap = field_snapshot(self)
        snap["waits_on"] = sorted(t.pk for t in self.waits_on_list())
        return snap

    def waits_on_list(self) -> list:
        """The tasks it waits on, from a prefetch when there is one (a bulk import's)."""
        if self.pk is None:
            return []
        cache = getattr(self, "_prefetched_objects_cache", {})
        return list(cache["waits_on"]) if "waits_on" in cache else list(self.waits_on.all())

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    # What get_status_display() and get_priority_display() say, without translating
    # every choice's label to find one (a list of fifty tasks spent a tenth of its page so).
    @property
    def status_label(self) -> str:
        return _choice_label(self.Status, self.status)

    @property
    def priority_label(self) -> str:
        return _choice_label(self.Priority, self.priority)

    def due_moment(self) -> datetime.datetime | None:
        """When it is due: its day at its time (or the day's start), on the server's clock."""
        if self.due_date is None:
            return None
        at = datetime.datetime.combine(self.due_date, self.due_time or datetime.time())
        return timezone.make_aware(at, timezone.get_default_timezone())

    @property
    def is_overdue(self) -> bool:
        """Still to do and its day (or its moment, if it has a time) has passed."""
        if not self.is_active or self.due_date is None:
            return False
        now = timezone.localtime()
        if self.due_time is None:
            return self.due_date < now.date()
        return (self.due_date, self.due_time) < (now.date(), now.time())


class ChecklistItem(models.Model):
    """One step of a task's checklist, in its place (``position``, from 0)."""

    TEXT_LENGTH = 500

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(_("text"), max_length=TEXT_LENGTH)
    done = models.BooleanField(_("done"), default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        indexes = [models.Index(fields=["task", "position"], name="checklist_task")]

    def __str__(self):
        return self.text


class TaskComment(models.Model):
    """A line of a task's conversation: plain text, its author and when."""

    TEXT_LENGTH = 5000

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("text"), max_length=TEXT_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [models.Index(fields=["task", "created_at", "id"], name="task_comment")]

    def __str__(self):
        return self.text[:80]


class Notification(models.Model):
    """Something one user should see (a reminder come due): theirs alone, read or not.

    ``title`` is written when it is made; ``object_type`` and ``object_id`` name the
    record it is about, linked only while the recipient may still see it.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=50)
    title = models.CharField(max_length=300)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            models.Index(
                fields=["recipient"], condition=models.Q(read_at=None), name="notification_unread"
            ),
        ]

    def __str__(self):
        return self.title


# -- the timeline's entries: notes, calls, emails ---------------------------------------------


class Note(BusinessRecord):
    body = models.TextField(_("note"))
    # When it happened or was written: where it shows on timelines.
    noted_at = models.DateTimeField(_("date"), default=timezone.now)

    name_fields = ("body",)

    class Meta:
        ordering = ["-noted_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        indexes = [
            models.Index(fields=["noted_at", "id"], name="note_noted"),
            models.Index(fields=["updated_at", "id"], name="note_updated"),
        ]

    def __str__(self):
        first_line = self.body.strip().splitlines()[0] if self.body.strip() else ""
        return first_line if len(first_line) <= 80 else first_line[:79] + "…"

    def search_text(self) -> str:
        return self.body


class Direction(models.TextChoices):
    INBOUND = "in", _("incoming")
    OUTBOUND = "out", _("outgoing")


class Call(BusinessRecord):
    class Outcome(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("call", "to make")
        ANSWERED = "answered", pgettext_lazy("call", "answered")
        NO_ANSWER = "no_answer", pgettext_lazy("call", "no answer")
        BUSY = "busy", pgettext_lazy("call", "busy")
        VOICEMAIL = "voicemail", pgettext_lazy("call", "voicemail")
        FAILED = "failed", pgettext_lazy("call", "failed")

    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.OUTBOUND
    )
    # The other side's number and ours, E.164 when they parse, else as given.
    their_number = models.CharField(_("their number"), max_length=40, blank=True)
    our_number = models.CharField(_("our number"), max_length=40, blank=True)
    # When it took place, or (to make) when it is planned.
    started_at = models.DateTimeField(_("time"), default=timezone.now)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.ANSWERED
    )
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            models.Index(fields=["started_at", "id"], name="call_started"),
            models.Index(fields=["owner", "outcome", "started_at"], name="call_owner_outcome"),
            models.Index(fields=["updated_at", "id"], name="call_updated"),
        ]

    def __str__(self):
        kind = _("Incoming call") if self.direction == Direction.INBOUND else _("Outgoing call")
        return f"{kind} · {self.their_number}" if self.their_number else str(kind)

    def search_text(self) -> str:
        return f"{self.their_number} {self.our_number} {self.summary}"

    @property
    def duration_text(self) -> str:
        """The duration as minutes:seconds ("" if not known)."""
        if self.duration_seconds is None:
            return ""
        minutes, seconds = divmod(self.duration_seconds, 60)
        return f"{minutes}:{seconds:02d}"


class EmailMessage(BusinessRecord):
    """A stored email (written by hand or, later, synced from a mailbox)."""

    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.OUTBOUND
    )
    subject = models.CharField(_("subject"), max_length=500)
    from_address = models.CharField(_("from"), max_length=320, blank=True)
    to_addresses = models.TextField(_("to"), blank=True)
    cc_addresses = models.TextField(_("cc"), blank=True)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    body_text = models.TextField(_("text"), blank=True)
    # Sanitised on every write (nh3): shown as HTML as it is stored.
    body_html = models.TextField(_("HTML"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=500, blank=True)

    name_fields = ("subject",)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        indexes = [
            models.Index(fields=["sent_at", "id"], name="email_sent"),
            models.Index(fields=["subject", "id"], name="email_subject"),
            models.Index(fields=["updated_at", "id"], name="email_updated"),
        ]

    def __str__(self):
        return self.subject

    def search_text(self) -> str:
        return f"{self.subject} {self.from_address} {self.to_addresses} {self.body_text}"
