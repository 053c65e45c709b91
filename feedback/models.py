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


class FeedbackItem(models.Model):
    """One thing a customer told us outside a contact: a survey answer (NPS, CSAT, CES) with
    its verbatim, a complaint, a compliment, a review or a social post. Unique on (source,
    external_id) when an external id is given, so a re-sent batch updates instead of
    duplicating, as contacts do.

    Scores and their bands (what the dashboards' NPS/CSAT/CES panels count):
    NPS 0-10 (0-6 detractor, 7-8 passive, 9-10 promoter); CSAT 1-5 (1-2 unhappy, 3 neutral,
    4-5 happy); CES 1-7, agreement with "the company made it easy to handle my issue" (1-3
    detractor, 4 neutral, 5-7 easy).
    """

    class Kind(models.TextChoices):
        NPS = "nps", "NPS answer"
        CSAT = "csat", "CSAT answer"
        CES = "ces", "CES answer"
        COMPLAINT = "complaint", "Complaint"
        COMPLIMENT = "compliment", "Compliment"
        REVIEW = "review", "Review"
        SOCIAL = "social", "Social post"

    class Band(models.TextChoices):
        NEGATIVE = "negative", "Detractor / unhappy"
        NEUTRAL = "neutral", "Passive / neutral"
        POSITIVE = "positive", "Promoter / happy"

    class TopicSource(models.TextChoices):
        HAND = "hand", "Set by hand"
        CONTACT = "contact", "From the linked contact"
        RULE = "rule", "By a keyword rule"

    # kind -> (lowest, highest) score; kinds not listed take no score.
    SCORE_RANGES = {Kind.NPS: (0, 10), Kind.CSAT: (1, 5), Kind.CES: (1, 7)}

    kind = models.CharField(max_length=10, choices=Kind.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=8, choices=Band.choices, blank=True)
    verbatim = models.TextField(blank=True)  # redacted before it is stored
    source = models.CharField(max_length=50)
    # Empty for items typed in VoC (a survey answer, a complaint logged by hand).
    external_id = models.CharField(max_length=200, blank=True)
    customer = models.ForeignKey(
        "contacts.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_items",
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_items",
    )
    # The topic: a taxonomy reason (by hand, from the linked contact, or a keyword rule).
    reason = models.ForeignKey(
        "contacts.ContactReason",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback_items",
    )
    topic_source = models.CharField(max_length=8, choices=TopicSource.choices, blank=True)
    # Copied from the linked contact (or given), for the rollups' channel and team.
    channel = models.CharField(max_length=10, blank=True)
    team = models.ForeignKey(
        "people.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The customer's segment when the item was recorded (as on contacts).
    customer_segment = models.CharField(max_length=20, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    received_at = models.DateTimeField(help_text="When the customer gave it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="feedback_item_source_ref",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="nps", score__gte=0, score__lte=10)
                    | Q(kind="csat", score__gte=1, score__lte=5)
                    | Q(kind="ces", score__gte=1, score__lte=7)
                    | (~Q(kind__in=["nps", "csat", "ces"]) & Q(score__isnull=True))
                ),
                name="feedback_item_score_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["received_at"], name="feedback_item_time"),
            models.Index(fields=["customer", "received_at"], name="feedback_item_customer"),
            models.Index(fields=["contact"], name="feedback_item_contact"),
            models.Index(fields=["kind", "received_at"], name="feedback_item_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_survey(self) -> bool:
        return self.kind in self.SCORE_RANGES


# --- Post-contact surveys (feedback/surveys/) -----------------------------------------------


class SurveyInvitation(models.Model):
    """One customer asked, by email, one question about one closed contact (NPS or CSAT), then
    "tell us why". Created only by the invitation job after ``budget_claim`` said yes; the
    email goes through send-once (key ``invitation:<id>``). The link in it is a signed token
    naming this row (voc.core.links): no personal data in the URL, nothing secret stored here.
    ``answer`` is the FeedbackItem the answer became (source "survey", external id
    ``invitation:<id>``)."""

    class Scale(models.TextChoices):
        NPS = "nps", "NPS (0-10)"
        CSAT = "csat", "CSAT (1-5)"

    contact = models.OneToOneField(
        "contacts.Contact", on_delete=models.CASCADE, related_name="survey_invitation"
    )
    customer = models.ForeignKey(
        "contacts.Customer", on_delete=models.CASCADE, related_name="survey_invitations"
    )
    scale = models.CharField(max_length=4, choices=Scale.choices)
    # Copied from the contact, for the report's per-channel figures.
    channel = models.CharField(max_length=10)
    sent_at = models.DateTimeField(help_text="When the invitation was decided and queued.")
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.OneToOneField(
        FeedbackItem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_invitation",
    )

    class Meta:
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(answered_at__gte=F("sent_at")),
                name="survey_invitation_answered_after_sent",
            ),
        ]
        indexes = [
            # The report (a period's invitations) and "asked twice in 30 days" (per customer).
            models.Index(fields=["sent_at"], name="survey_invitation_sent"),
            models.Index(fields=["customer", "sent_at"], name="survey_invitation_customer"),
        ]

    def __str__(self) -> str:
        return f"Survey invitation #{self.pk} ({self.scale}) for contact {self.contact_id}"
