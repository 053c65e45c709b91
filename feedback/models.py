"""Side-by-side listening sessions (the 5% solution) and the notes taken during them.

An executive sits beside a rep and listens to real contacts; the notes are what they heard. A
session is not a performance review of the rep: nothing here feeds a rep's metrics, and only
the two participants, executives and admins read the notes (feedback/selectors.py).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from voc.people.models import User


class Session(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"

    executive = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="listening_sessions"
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="hosted_sessions"
    )
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    topic = models.CharField(max_length=200, blank=True)
    scheduled_start = models.DateTimeField()
    planned_minutes = models.PositiveSmallIntegerField(default=120)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The real listening time, set when the session ends: what the 5% tracker adds up.
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Ended by the sweep after MAX_RUNNING rather than by a participant.
    closed_automatically = models.BooleanField(default=False)
    # The calendar invitation's version (iCalendar SEQUENCE): +1 on each reschedule and cancel.
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-scheduled_start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(executive=F("rep")), name="feedback_session_two_people"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="feedback_session_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(planned_minutes__gte=15, planned_minutes__lte=480),
                name="feedback_session_planned_minutes",
            ),
        ]
        indexes = [
            # The tracker: one executive's ended sessions by when they started.
            models.Index(fields=["executive", "status", "started_at"]),
            models.Index(fields=["rep", "scheduled_start"]),
        ]

    def __str__(self) -> str:
        return f"Side-by-side #{self.pk} on {self.scheduled_start:%Y-%m-%d %H:%M}"

    @property
    def planned_end(self) -> datetime:
        return self.scheduled_start + timedelta(minutes=self.planned_minutes)

    @property
    def duration(self) -> timedelta | None:
        return None if self.duration_seconds is None else timedelta(seconds=self.duration_seconds)

    def is_participant(self, user: User | AnonymousUser) -> bool:
        return user.pk in (self.executive_id, self.rep_id)


class SessionNote(models.Model):
    class Kind(models.TextChoices):
        OBSERVATION = "observation", "Observation"
        QUOTE = "quote", "Quote"
        QUESTION = "question", "Question"
        IDEA = "idea", "Idea"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OBSERVATION)
    text = models.TextField()  # redacted before it is stored
    # Made by the browser when the note is typed: a note sent again (a retry after a dropped
    # connection, a reload with notes still waiting) finds the stored one instead of a copy.
    client_id = models.UUIDField(unique=True)
    noted_at = models.DateTimeField(help_text="When the note was typed, by the browser's clock.")
    received_at = models.DateTimeField(default=timezone.now)
    contacts = models.ManyToManyField("contacts.Contact", blank=True, related_name="session_notes")

    class Meta:
        ordering = ["noted_at", "id"]
        indexes = [models.Index(fields=["session", "noted_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} in session #{self.session_id}"
