"""Meetings (a record type on the engine) and each user's private calendar feed.

A meeting's owner is its organiser. Its participants are two plain many-to-many lists:
``attendees`` (users) and ``people`` (contacts). An all-day meeting keeps whole days
in the company's time zone: ``start`` at midnight of its first day, ``end`` at midnight
after its last (``services`` normalises both).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kontor.core.models import BusinessRecord


class Meeting(BusinessRecord):
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    all_day = models.BooleanField(_("all day"), default=False)
    place = models.CharField(_("place"), max_length=255, blank=True)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("participants"),
        blank=True,
        related_name="attended_meetings",
    )
    people = models.ManyToManyField(
        "contacts.Person", verbose_name=_("contacts"), blank=True, related_name="meetings"
    )
    # An RFC 5545 RRULE (kontor.core.recurrence), empty for a single meeting.
    recurrence = models.CharField(_("repeat rule"), max_length=500, blank=True)
    # Minutes before the start (of each occurrence) when the participants are reminded.
    remind_minutes = models.PositiveIntegerField(_("reminder"), null=True, blank=True)

    class Meta:
        ordering = ["start", "id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        indexes = [
            models.Index(fields=["title", "id"], name="meeting_title"),
            models.Index(fields=["start", "id"], name="meeting_start"),
            models.Index(fields=["owner", "start"], name="meeting_owner_start"),
            models.Index(fields=["department", "start", "id"], name="meeting_dept_start"),
            models.Index(fields=["updated_at", "id"], name="meeting_updated"),
        ]

    def __str__(self):
        return self.title

    def search_text(self) -> str:
        return f"{self.title} {self.place} {self.description}"

    @property
    def duration(self):
        return self.end - self.start

    def audit_snapshot(self) -> dict:
        """Its fields, and its participants read from the link rows themselves (a reader's
        page may have loaded only the contacts it may see): users by name, contacts by id
        (a contact's name is not everyone's to read in the history)."""
        skip = {"id", "version", "created_at", "updated_at", "custom"}
        snap = {
            f.attname: getattr(self, f.attname)
            for f in self._meta.concrete_fields
            if f.attname not in skip
        }
        if self.pk is None:
            return snap | {"attendees": [], "people": []}
        users = get_user_model().objects.filter(attended_meetings=self.pk)
        snap["attendees"] = sorted(str(user) for user in users)
        snap["people"] = sorted(
            Meeting.people.through.objects.filter(meeting_id=self.pk).values_list(
                "person_id", flat=True
            )
        )
        return snap


class CalendarFeed(models.Model):
    """A user's private iCalendar feed: only the SHA-256 of its secret is kept, the URL
    is shown once; a reset replaces the secret, so the old URL stops at once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"calendar feed of {self.user}"
