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


class ComplaintThanks(models.Model):
    """The thank-you a complaint got (complaints as gifts): who thanked the customer and when,
    and the send-once email that carried it. One per complaint, so a double click, a second
    tab or a second worker cannot thank twice (feedback/complaints/services.py)."""

    item = models.OneToOneField(FeedbackItem, on_delete=models.CASCADE, related_name="thanks")
    thanked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    thanked_at = models.DateTimeField(default=timezone.now)
    email = models.ForeignKey(
        "core.SendOnce", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "complaint thanks"

    def __str__(self) -> str:
        return f"Thanks for complaint #{self.item_id}"


# --- outreach programs (feedback/outreach/) --------------------------------------------------
# Executives call lost and loyal customers from a monthly list, do "be a customer" exercises
# and meet reps in frontline forums. Calls and exercises count as listening time in the 5%
# tracker. Who reads what: feedback/outreach/selectors.py.


class OutreachProgram(models.TextChoices):
    LOST = "lost", "Lost customers"
    LOYAL = "loyal", "Loyal customers"
    EXERCISE = "exercise", "Be a customer"
    FORUM = "forum", "Frontline forums"


class OutreachList(models.Model):
    """One executive's call list for one program (lost or loyal) and month: made once (by the
    monthly job or on demand), never twice (the unique constraint)."""

    executive = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outreach_lists"
    )
    program = models.CharField(max_length=8, choices=OutreachProgram.choices)
    month = models.DateField(help_text="The first day of the month the list is for.")
    size = models.PositiveSmallIntegerField(help_text="The list size asked for.")
    # How many candidates the contact budget refused (their reasons are BudgetRefusal rows
    # under this list's budget key), and how many another executive's list held already.
    refused = models.PositiveIntegerField(default=0)
    taken = models.PositiveIntegerField(default=0)
    generated_at = models.DateTimeField(default=timezone.now)
    generated_by = models.CharField(max_length=150)
    # Not stored: set by feedback.outreach.selectors.my_call_lists for the hub.
    refusal_reasons: list[tuple[str, int]]

    class Meta:
        ordering = ["-month", "program", "executive_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["executive", "program", "month"], name="feedback_outreach_list_once"
            ),
            models.CheckConstraint(
                condition=Q(program__in=["lost", "loyal"]), name="feedback_outreach_list_program"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="feedback_outreach_list_month"),
        ]

    def __str__(self) -> str:
        return f"{self.get_program_display()} for {self.executive} in {self.month:%B %Y}"

    @property
    def budget_key(self) -> str:
        return f"outreach:{self.program}:{self.month:%Y-%m}:{self.executive_id}"


class OutreachCall(models.Model):
    """One customer on a call list, and the call once logged. ``month`` is copied from the list
    so the database itself refuses a customer on two executives' lists in a month."""

    class Outcome(models.TextChoices):
        REACHED = "reached", "Talked with them"
        WON_BACK = "won_back", "They will come back"
        VOICEMAIL = "voicemail", "Left a voicemail"
        NO_ANSWER = "no_answer", "No answer"
        DECLINED = "declined", "Did not want to talk"

    outreach_list = models.ForeignKey(OutreachList, on_delete=models.CASCADE, related_name="calls")
    month = models.DateField()
    # Emptied when the customer is erased (with the notes and why they were on the list).
    customer = models.ForeignKey(
        "contacts.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outreach_calls",
    )
    # Why they are on the list: the lost event's day and reason, the gained day, the NPS score.
    lost_on = models.DateField(null=True, blank=True)
    lost_reason = models.CharField(max_length=500, blank=True)
    customer_since = models.DateField(null=True, blank=True)
    promoter_score = models.PositiveSmallIntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # The call, once logged.
    called_at = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    notes = models.TextField(blank=True)  # redacted before it is stored
    follow_up = models.CharField(max_length=500, blank=True)  # what we will do; redacted
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["outreach_list", "position", "id"]
        constraints = [
            # Never two executives for one customer in a month, whatever the program.
            models.UniqueConstraint(
                fields=["customer", "month"], name="feedback_outreach_customer_once_a_month"
            ),
            models.CheckConstraint(
                condition=Q(called_at__isnull=True) | Q(duration_minutes__isnull=False),
                name="feedback_outreach_call_has_duration",
            ),
        ]
        indexes = [
            # The tracker: calls by when they were made.
            models.Index(fields=["called_at"], name="feedback_outreach_called_at"),
        ]

    def __str__(self) -> str:
        return f"Outreach call #{self.pk}"

    @property
    def done(self) -> bool:
        return self.called_at is not None


class OutreachExercise(models.Model):
    """A "be a customer" exercise: an executive does what customers must do and says what was
    hard. The time spent counts as listening."""

    class Task(models.TextChoices):
        OPEN_ACCOUNT = "open_account", "Open an account"
        FILE_CLAIM = "file_claim", "File a claim"
        CALL_SUPPORT = "call_support", "Call support"
        CHANGE_DETAILS = "change_details", "Change my details"
        CANCEL = "cancel", "Cancel a service"
        OTHER = "other", "Something else"

    class Outcome(models.TextChoices):
        EASY = "easy", "Done, easily"
        HARD = "hard", "Done, with difficulty"
        GAVE_UP = "gave_up", "Could not finish"

    executive = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outreach_exercises"
    )
    task = models.CharField(max_length=16, choices=Task.choices)
    description = models.CharField(max_length=200, blank=True)
    done_at = models.DateTimeField()
    minutes_spent = models.PositiveIntegerField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    notes = models.TextField(blank=True, help_text="What was hard.")  # redacted
    follow_up = models.CharField(max_length=500, blank=True)  # redacted
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-done_at", "-id"]
        indexes = [models.Index(fields=["executive", "done_at"], name="feedback_exercise_done")]

    def __str__(self) -> str:
        return f"{self.get_task_display()} by {self.executive} on {self.done_at:%Y-%m-%d}"


class Forum(models.Model):
    """A frontline forum: reps and the CEO meet; the topics raised are ForumTopic rows."""

    title = models.CharField(max_length=200)
    held_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_at:%Y-%m-%d})"


class ForumTopic(models.Model):
    """A topic raised at a forum, and who follows it up: an owner, a due date, done."""

    class Outcome(models.TextChoices):
        ACTION = "action", "We will act on it"
        EXPLAIN = "explain", "Explained; no change"
        LOOK_INTO = "look_into", "We will look into it"

    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="topics")
    title = models.CharField(max_length=200)  # redacted
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True)  # redacted
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="forum_follow_ups",
    )
    due_on = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # No check that a due date has an owner: the service asks for one, and an owner's
        # account removed later leaves the date (SET_NULL) rather than failing the removal.
        ordering = ["forum", "id"]

    def __str__(self) -> str:
        return self.title


# --- feedback items: topic rules and daily rollups -------------------------------------------


class TopicRule(models.Model):
    """A keyword rule an admin edits: an item whose verbatim contains one of the keywords or
    phrases gets the rule's reason as its topic, when no topic was given by hand or by the
    linked contact. Rules are tried by priority (lowest first), then by id; the first that
    matches wins."""

    name = models.CharField(max_length=100, help_text="What the rule is for, for admins.")
    keywords = models.TextField(
        help_text="One keyword or phrase a line; matched as whole words, ignoring case."
    )
    reason = models.ForeignKey(
        "contacts.ContactReason", on_delete=models.PROTECT, related_name="topic_rules"
    )
    enabled = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Lower numbers are tried first."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [line.strip() for line in self.keywords.splitlines() if line.strip()]


class FeedbackRollup(models.Model):
    """Feedback items counted per reporting day × kind × band × reason × channel × team ×
    customer segment (0 and "" for none), kept in step by every write path
    (feedback/items/rollups.py). NPS, CSAT and CES panels read the bands (promoters minus
    detractors, the share of happy answers) and the score sums (means)."""

    day = models.DateField()
    kind = models.CharField(max_length=10)
    band = models.CharField(max_length=8)
    reason_id = models.IntegerField()  # 0: no topic; not a foreign key, as ContactRollup
    channel = models.CharField(max_length=10)
    team_id = models.IntegerField()  # 0: no team
    segment = models.CharField(max_length=20)
    items = models.IntegerField(default=0)
    score_sum = models.BigIntegerField(default=0)
    scored_items = models.IntegerField(default=0)
    negative_sentiment = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "kind", "band", "reason_id", "channel", "team_id", "segment"],
                name="feedback_rollup_key",
            )
        ]
        indexes = [models.Index(fields=["day", "kind"], name="feedback_rollup_day_kind")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.band}: {self.items}"


# --- Thumbs up / thumbs down stories (feedback/stories/) ------------------------------------


class Story(models.Model):
    """A memorable experience of a customer, good or bad, told by someone who was there (a rep,
    a manager, an executive) so that executives hear it: thumbs up or thumbs down, a short
    title and the story. It is about one contact; the customer is the contact's."""

    class Thumb(models.TextChoices):
        UP = "up", "Thumbs up"
        DOWN = "down", "Thumbs down"

    thumb = models.CharField(max_length=4, choices=Thumb.choices)
    title = models.CharField(max_length=120)  # redacted before it is stored; blank once erased
    text = models.TextField()  # redacted before it is stored; blank once erased
    # A contact logged by mistake and deleted takes its stories with it.
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="stories"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the customer was erased: the title and text are gone, the thumb and who stay.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "stories"
        indexes = [
            # The wall and the digests: the latest stories, all or one thumb.
            models.Index(fields=["-created_at", "-id"], name="feedback_story_latest"),
            models.Index(fields=["thumb", "-created_at", "-id"], name="feedback_story_thumb"),
            # The contact page's panel and the customer timeline.
            models.Index(fields=["contact", "-created_at"], name="feedback_story_contact"),
            models.Index(fields=["author", "-created_at"], name="feedback_story_author"),
        ]

    def __str__(self) -> str:
        return f"{self.get_thumb_display()} story #{self.pk}"

    @property
    def is_up(self) -> bool:
        return self.thumb == self.Thumb.UP


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
