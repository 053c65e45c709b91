"""Recurring issues that reps flag and managers own, and what happens around them: the evidence
behind an issue, SLA clocks and escalations, verification that a fix worked, the notices that
tell customers a fix landed, and follow-ups on detractors and complaints.

The rules (which status may follow which, when a clock is overdue, who is next in an escalation
chain, what a verification says) are pure functions in ``loops/rules.py`` and
``loops/statistics.py``; every write is a service (``loops/services/``) that records people's
actions in the one audit trail.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CODE_RED = "code_red", "Code red"


class Issue(models.Model):
    """A recurring problem customers contact us about, with an owner who fixes it."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        TRIAGED = "triaged", "Triaged"
        ASSIGNED = "assigned", "Assigned"
        IN_PROGRESS = "in_progress", "In progress"
        FIXED = "fixed", "Fixed"
        VERIFIED = "verified", "Verified"
        CLOSED = "closed", "Closed"
        WONT_FIX = "wont_fix", "Won't fix"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)  # redacted before it is stored
    reasons = models.ManyToManyField(
        "contacts.ContactReason", blank=True, related_name="loop_issues"
    )
    department = models.ForeignKey(
        "people.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="loop_issues",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_issues",
        help_text="The manager who fixes it.",
    )
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sponsored_issues",
        help_text="The executive who backs the fix; the last step of an escalation.",
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.NEW, db_index=True
    )
    # Said to the reporters when the owner or the department head decides not to fix it.
    wont_fix_reason = models.TextField(blank=True)
    # A merged duplicate points to the issue that absorbed its evidence, flags and reporters.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_issues"
    )
    ticket_url = models.URLField(blank=True, help_text="The engineering ticket, if there is one.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    # The SLA clocks (loops/rules.py): due times come from the severity's policy when the issue
    # is opened or its severity changes; the response clock stops when the issue leaves "new"
    # with an owner, the resolution clock when it is fixed.
    response_due_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    fixed_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # Kept by the evidence services: what the board sorts and filters on without counting.
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    evidence_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["department", "status"], name="loops_issue_dept_status"),
            models.Index(fields=["owner", "status"], name="loops_issue_owner_status"),
            models.Index(fields=["sponsor", "status"], name="loops_issue_sponsor_status"),
            # The board's default order and the dashboard's drill-down pages (keyset, newest first).
            models.Index(fields=["created_at", "id"], name="loops_issue_created"),
            # The escalation sweep: open issues whose clock ran out.
            models.Index(
                fields=["response_due_at"],
                condition=Q(responded_at__isnull=True),
                name="loops_issue_response_due",
            ),
            models.Index(
                fields=["resolution_due_at"],
                condition=Q(fixed_at__isnull=True),
                name="loops_issue_resolution_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")), name="loops_issue_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=~Q(status="wont_fix") | ~Q(wont_fix_reason=""),
                name="loops_issue_wont_fix_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status not in OPEN_EXCLUDED and self.merged_into_id is None


# Statuses an issue is no longer worked on in.
OPEN_EXCLUDED = frozenset({Issue.Status.CLOSED, Issue.Status.WONT_FIX})


class EvidenceKind(models.TextChoices):
    CONTACT = "contact", "Contact"
    FEEDBACK = "feedback", "Feedback item"
    SESSION_NOTE = "session_note", "Side-by-side note"
    OUTREACH_CALL = "outreach_call", "Outreach call"
    EXERCISE = "exercise", "Be-a-customer exercise"
    FORUM_TOPIC = "forum_topic", "Forum topic"


# The one source column each evidence kind fills.
EVIDENCE_FIELDS = {
    EvidenceKind.CONTACT: "contact",
    EvidenceKind.FEEDBACK: "feedback_item",
    EvidenceKind.SESSION_NOTE: "session_note",
    EvidenceKind.OUTREACH_CALL: "outreach_call",
    EvidenceKind.EXERCISE: "exercise",
    EvidenceKind.FORUM_TOPIC: "forum_topic",
}


def _exactly_one_source() -> Q:
    condition = Q()
    for kind, field in EVIDENCE_FIELDS.items():
        others = {f"{other}__isnull": True for other in EVIDENCE_FIELDS.values() if other != field}
        condition |= Q(kind=kind, **{f"{field}__isnull": False}, **others)
    return condition


class IssueEvidence(models.Model):
    """One thing that shows an issue happens: a contact, a feedback item, a side-by-side note or
    an outreach entry. Each source counts once per issue, however many flags it gets."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=14, choices=EvidenceKind.choices)
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    feedback_item = models.ForeignKey(
        "feedback.FeedbackItem",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    session_note = models.ForeignKey(
        "feedback.SessionNote", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    outreach_call = models.ForeignKey(
        "feedback.OutreachCall", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    exercise = models.ForeignKey(
        "feedback.OutreachExercise",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    forum_topic = models.ForeignKey(
        "feedback.ForumTopic", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Who reported it, when known: the customers a fix notice goes to.
    customer = models.ForeignKey(
        "contacts.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(help_text="When it happened: first and last seen.")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["issue", "occurred_at"], name="loops_evidence_issue_day"),
            models.Index(fields=["contact"], name="loops_evidence_contact"),
            models.Index(fields=["customer"], name="loops_evidence_customer"),
        ]
        constraints = [
            models.CheckConstraint(condition=_exactly_one_source(), name="loops_evidence_one"),
            *(
                models.UniqueConstraint(
                    fields=["issue", field],
                    condition=Q(**{f"{field}__isnull": False}),
                    name=f"loops_evidence_once_{field}",
                )
                for field in EVIDENCE_FIELDS.values()
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on issue #{self.issue_id}"


class Flag(models.Model):
    """A rep saying "this contact is that issue" (a "me too" on a known issue, or the contact
    that opened a new one). A contact is evidence once per issue; each rep flags it once."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="flags")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="issue_flags"
    )
    note = models.TextField(blank=True)  # redacted before it is stored
    proposed = models.BooleanField(
        default=False, help_text="This flag proposed the issue rather than joining it."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["flagged_by", "created_at"], name="loops_flag_by")]
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "contact", "flagged_by"], name="loops_flag_once_per_rep"
            ),
        ]

    def __str__(self) -> str:
        return f"Flag of contact {self.contact_id} on issue #{self.issue_id}"


class SlaPolicy(models.Model):
    """Per severity, how long (wall-clock hours) until a response and until the fix."""

    severity = models.CharField(max_length=10, choices=Severity.choices, unique=True)
    response_hours = models.PositiveIntegerField()
    resolution_hours = models.PositiveIntegerField()

    class Meta:
        ordering = ["severity"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(response_hours__gte=1) & Q(resolution_hours__gte=F("response_hours")),
                name="loops_sla_sensible_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: respond in {self.response_hours} h, fix in {self.resolution_hours} h"


class Clock(models.TextChoices):
    RESPONSE = "response", "Response"
    RESOLUTION = "resolution", "Resolution"
    FOLLOW_UP = "follow_up", "Follow-up"


class Escalation(models.Model):
    """One step up an escalation chain (owner, then ``owner.reports_to``, then the sponsor) for
    an overdue issue or follow-up. Unique per (target, clock, level): a level is never
    escalated twice, however many workers or beats run the sweep."""

    # No index of their own on the three foreign keys: the partial unique indexes lead with
    # issue and follow_up, and (notified, at) with notified; a sweep that inserts 65,000 rows
    # maintains four indexes instead of seven (bench/README.md, escalation sweep).
    issue = models.ForeignKey(
        Issue,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="escalations",
        db_index=False,
    )
    follow_up = models.ForeignKey(
        "loops.FollowUp",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="escalations",
        db_index=False,
    )
    clock = models.CharField(max_length=10, choices=Clock.choices)
    level = models.PositiveSmallIntegerField(
        help_text="1: the owner, 2: their manager, 3: sponsor."
    )
    notified = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    due_at = models.DateTimeField(help_text="The deadline that was missed.")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["notified", "at"], name="loops_escalation_notified")]
        constraints = [
            models.CheckConstraint(
                condition=Q(issue__isnull=False, follow_up__isnull=True)
                | Q(issue__isnull=True, follow_up__isnull=False),
                name="loops_escalation_one_target",
            ),
            models.UniqueConstraint(
                fields=["issue", "clock", "level"],
                condition=Q(issue__isnull=False),
                name="loops_escalation_issue_level_once",
            ),
            models.UniqueConstraint(
                fields=["follow_up", "level"],
                condition=Q(follow_up__isnull=False),
                name="loops_escalation_follow_up_level_once",
            ),
        ]

    def __str__(self) -> str:
        target = f"issue #{self.issue_id}" if self.issue_id else f"follow-up #{self.follow_up_id}"
        return f"Escalation level {self.level} of {target}"


class Verdict(models.TextChoices):
    WORKED = "worked", "Worked"
    NOT_SHOWN = "not_shown", "Not shown"
    TOO_EARLY = "too_early", "Too early to tell"


class Verification(models.Model):
    """Did the fix work? The contact rate of the issue's reasons (per 1,000 contacts of all
    reasons) in equal windows before and after the fix, same weekdays, read from rollups and
    judged by ``loops.statistics``. Computed when the issue is fixed and again at 30 and 90
    days (did the contacts come back?)."""

    class Checkpoint(models.TextChoices):
        AT_FIX = "at_fix", "When fixed"
        DAY_30 = "day_30", "After 30 days"
        DAY_90 = "day_90", "After 90 days"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="verifications")
    checkpoint = models.CharField(max_length=8, choices=Checkpoint.choices)
    fixed_at = models.DateTimeField(help_text="The fix this checks (an issue can be fixed again).")
    computed_at = models.DateTimeField(default=timezone.now)
    window_days = models.PositiveSmallIntegerField()
    before_count = models.PositiveIntegerField()
    before_total = models.PositiveIntegerField()
    after_count = models.PositiveIntegerField()
    after_total = models.PositiveIntegerField()
    test_name = models.CharField(max_length=100)
    rate_ratio = models.FloatField(null=True, blank=True)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    p_value = models.FloatField(null=True, blank=True)
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    explanation = models.TextField(blank=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "checkpoint", "fixed_at"], name="loops_verification_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_checkpoint_display()} of issue #{self.issue_id}: {self.verdict}"


class FixNotice(models.Model):
    """The message that tells customers who reported an issue that it was fixed: previewed,
    edited and approved by the owner, then sent once per customer (``NoticeRecipient``)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved, sending"
        SENT = "sent", "Sent"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="notices")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # Beyond the reporters: everyone with a contact on the issue's reasons since first seen.
    include_reason_contacts = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Fix notice #{self.pk} for issue #{self.issue_id}"


class NoticeRecipient(models.Model):
    """One customer a fix notice was for: sent once (``voc.core.sendonce``), or left out with the
    reason. Keeps the customer id only; the address is read when the email is built."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Left out"
        UNCERTAIN = "uncertain", "Uncertain: reconciled"

    class SkipReason(models.TextChoices):
        ERASED = "erased", "Customer erased"
        OPTED_OUT = "opted_out", "Opted out"
        NO_ADDRESS = "no_address", "No email address"
        BUDGET = "budget", "The contact budget said no"
        MERGED = "merged", "Merged into another customer"
        ALREADY_TOLD = "already", "Already told about this issue"

    notice = models.ForeignKey(FixNotice, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(
        "contacts.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reporter = models.BooleanField(help_text="Reported it (evidence, flag, feedback).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    skip_reason = models.CharField(max_length=10, choices=SkipReason.choices, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    esp_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    # The email asked of the send-once helper: its state (sending, sent, unknown) until the
    # recipient's own status catches up (loops.notices.services.notices_reconcile).
    send_once = models.ForeignKey(
        "core.SendOnce", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["notice", "status"], name="loops_recipient_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "customer"],
                condition=Q(customer__isnull=False),
                name="loops_recipient_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Notice #{self.notice_id} to customer {self.customer_id}: {self.status}"


class FollowUp(models.Model):
    """A call back to a detractor or a complainer, owned by the triggering contact's team
    lead (else its reason's department head), due within a set time."""

    class Trigger(models.TextChoices):
        DETRACTOR = "detractor", "Detractor score"
        COMPLAINT = "complaint", "Complaint (feedback)"
        COMPLAINT_CONTACT = "complaint_contact", "Complaint (contact reason)"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", "Reached: resolved"
        REACHED = "reached", "Reached: not resolved"
        NO_ANSWER = "no_answer", "No answer"
        DECLINED = "declined", "Declined to talk"
        NOT_ALLOWED = "not_allowed", "Not allowed by the contact budget"

    trigger = models.CharField(max_length=18, choices=Trigger.choices)
    feedback_item = models.OneToOneField(
        "feedback.FeedbackItem",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="follow_up",
    )
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "contacts.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    team = models.ForeignKey(
        "people.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    department = models.ForeignKey(
        "people.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    notes = models.TextField(blank=True)  # redacted before it is stored
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(status="open"), name="loops_follow_up_open_due"
            ),
            models.Index(fields=["assignee", "status"], name="loops_follow_up_assignee"),
            # The dashboard's period counts and drill-down pages (keyset, newest first).
            models.Index(fields=["created_at", "id"], name="loops_follow_up_created"),
        ]
        constraints = [
            # One follow-up per triggering contact (a feedback item's is unique by its own FK).
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(feedback_item__isnull=True, contact__isnull=False),
                name="loops_follow_up_once_per_contact",
            ),
            models.CheckConstraint(
                condition=Q(feedback_item__isnull=False) | Q(contact__isnull=False),
                name="loops_follow_up_has_trigger",
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up #{self.pk} ({self.get_trigger_display()})"


class NotificationKind(models.TextChoices):
    ASSIGNMENT = "assignment", "An issue or follow-up assigned to me"
    ESCALATION = "escalation", "Escalations"
    DUE = "due", "Due dates coming up"


class NotificationPreference(models.Model):
    """A user switching one kind of loops email off (absent row: on). Escalations to oneself
    cannot be switched off (loops/rules.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="loop_notifications"
    )
    kind = models.CharField(max_length=12, choices=NotificationKind.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="loops_notification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} {'on' if self.enabled else 'off'}"


# --- The bcc program (loops/digests/): executives and department heads read the verbatim
# customer emails on their topics, in digests sent exactly once per subscription and period.


class DigestSubscription(models.Model):
    """What one person reads, and how often. Every filter that is set must match (a reason
    includes its sub-reasons); a subscriber only ever receives messages within their own row
    scope, whatever the filters say."""

    class Frequency(models.TextChoices):
        INSTANT = "instant", "As they arrive (batched)"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscriptions"
    )
    name = models.CharField(max_length=100)
    reasons = models.ManyToManyField("contacts.ContactReason", blank=True, related_name="+")
    departments = models.ManyToManyField("people.Department", blank=True, related_name="+")
    teams = models.ManyToManyField("people.Team", blank=True, related_name="+")
    tags = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    keywords = models.CharField(
        max_length=300, blank=True, help_text="Full-text, as the message search reads it."
    )
    sentiment_at_most = models.FloatField(
        null=True, blank=True, help_text="Only contacts at or below this sentiment (-1 to 1)."
    )
    include_outgoing = models.BooleanField(default=True, help_text="Our replies too.")
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.DAILY)
    hour = models.PositiveSmallIntegerField(default=8, help_text="Local hour, 0-23.")
    weekday = models.PositiveSmallIntegerField(default=0, help_text="0 Monday - 6 Sunday.")
    active = models.BooleanField(default=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The cursor: the end of the last period a digest was claimed for.
    sent_until = models.DateTimeField(null=True, blank=True)
    # Instant subscriptions' arrival cursor: the highest message id already read for a digest.
    # Instant digests read the messages after it, whatever their own time says.
    message_cursor = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["user_id", "name", "id"]
        indexes = [models.Index(fields=["active", "frequency"], name="loops_digest_sub_due")]
        constraints = [
            models.CheckConstraint(condition=Q(hour__lte=23), name="loops_digest_sub_hour"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="loops_digest_sub_weekday"),
            models.CheckConstraint(
                condition=Q(sentiment_at_most__isnull=True)
                | Q(sentiment_at_most__gte=-1, sentiment_at_most__lte=1),
                name="loops_digest_sub_sentiment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_frequency_display().lower()}) for {self.user_id}"


class Digest(models.Model):
    """One digest: one (subscription, period) claimed once (unique), rendered, and handed to
    the send-once helper (``send_once`` holds the delivery's state and the ESP's message id).
    A period with nothing to say is recorded as empty and not sent. Periods missed during an
    outage are merged into one digest that lists them in ``period_keys``."""

    class Status(models.TextChoices):
        BUILDING = "building", "Building"
        QUEUED = "queued", "Queued"
        EMPTY = "empty", "Nothing to say"
        FAILED = "failed", "Failed to build"

    subscription = models.ForeignKey(
        DigestSubscription, null=True, on_delete=models.SET_NULL, related_name="digests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests"
    )
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    period_keys = models.JSONField(default=list, help_text="The periods this digest covers.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.BUILDING)
    subject = models.CharField(max_length=200, blank=True)
    html = models.TextField(blank=True)  # as sent, for the history page
    text = models.TextField(blank=True)
    thread_count = models.PositiveIntegerField(default=0)
    message_count = models.PositiveIntegerField(default=0)
    more_count = models.PositiveIntegerField(default=0, help_text="Threads beyond the limit.")
    send_once = models.OneToOneField(
        "core.SendOnce", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the ESP told us afterwards (anymail's tracking): delivered, bounced, complained...
    delivery = models.CharField(max_length=16, blank=True)
    delivery_detail = models.CharField(max_length=300, blank=True)
    # The contacts whose messages it shows: an erasure finds the stored digests to clean.
    contact_ids = models.JSONField(default=list, blank=True)
    # An instant digest's messages by arrival: ids in (messages_after, messages_through].
    messages_after = models.BigIntegerField(null=True, blank=True)
    messages_through = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        indexes = [models.Index(fields=["user", "period_end"], name="loops_digest_user")]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_end"], name="loops_digest_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"Digest #{self.pk} for {self.user_id} until {self.period_end:%Y-%m-%d %H:%M}"


class DigestPeriod(models.Model):
    """One period's threads summed up once (loops/digests/periods.py), so the digests of all
    the subscriptions that share the period read a row per thread instead of every message.
    With ``keywords``, only the messages that match them (the keyword subscriptions with the
    same keywords share it). Kept a day, used while fresh."""

    start = models.DateTimeField()
    end = models.DateTimeField()
    keywords = models.CharField(max_length=300, blank=True, default="")
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["start", "end", "keywords"], name="loops_digest_period_keywords_once"
            ),
        ]

    def __str__(self) -> str:
        period = f"Digest period {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M}"
        return f"{period} matching {self.keywords!r}" if self.keywords else period


class DigestPeriodThread(models.Model):
    """A thread (contact) with messages in a DigestPeriod: how many and the newest, all and
    incoming only. The contact is a plain id: the summary lives a day and a contact that is
    gone simply no longer joins."""

    period = models.ForeignKey(DigestPeriod, on_delete=models.CASCADE, related_name="threads")
    contact_id = models.BigIntegerField()
    messages = models.PositiveIntegerField()
    newest_at = models.DateTimeField()
    incoming = models.PositiveIntegerField()
    newest_incoming_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"Contact #{self.contact_id} in digest period #{self.period_id}"


class DigestPeriodTexts(models.Model):
    """A period's messages copied once with their search vectors (loops/digests/periods.py),
    for the keyword subscriptions' summaries: each distinct keywords then searches the
    period's messages (a few MB) instead of the whole message table. Built only when a
    keyword subscription needs it; kept a day, used while fresh."""

    start = models.DateTimeField()
    end = models.DateTimeField()
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["start", "end"], name="loops_digest_period_texts_once"),
        ]

    def __str__(self) -> str:
        return f"Digest period texts {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M}"


class DigestPeriodText(models.Model):
    """A message of a DigestPeriodTexts: its thread, direction and time in the period. On
    PostgreSQL the table also holds the message's ``search_vector`` (migration 0018), written
    and read in SQL only."""

    texts = models.ForeignKey(DigestPeriodTexts, on_delete=models.CASCADE, related_name="rows")
    contact_id = models.BigIntegerField()
    direction = models.CharField(max_length=8)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"A message of contact #{self.contact_id} in digest period texts #{self.texts_id}"


# --- Rep flags (loops/flags/): each open issue's words, for the suggestions on a contact. ----


class IssueSearchDoc(models.Model):
    """An open issue's search document: its title, description and the text of its latest
    evidence, kept as weighted terms (``IssueSearchTerm``) by loops/flags/index.py when the
    issue or its evidence changes. Closed, won't-fix and merged issues have none."""

    issue = models.OneToOneField(
        Issue, on_delete=models.CASCADE, primary_key=True, related_name="search_doc"
    )
    length = models.FloatField(help_text="Weighted number of terms (BM25's document length).")
    evidence_items = models.PositiveIntegerField(default=0)
    # The issue's updated_at when it was indexed: a later change makes the document stale.
    source_updated_at = models.DateTimeField()
    indexed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Search document of issue #{self.issue_id}"


class IssueSearchTerm(models.Model):
    """One term of an issue's search document with its BM25 weight (the saturated term
    frequency, without the idf, which the query adds). The (term, issue) index is what the
    scoring reads: the postings of the contact's terms only."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=40)
    weight = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["term", "issue"], name="loops_search_term_once"),
        ]

    def __str__(self) -> str:
        return f"{self.term} in issue #{self.issue_id}"
