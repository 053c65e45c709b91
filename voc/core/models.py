from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models


class JobRun(models.Model):
    """One run of a periodic job: when it started and finished, what it touched, how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    job = models.CharField(max_length=100, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_touched = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["job", "-started_at"], name="jobrun_job_recent")]

    def __str__(self) -> str:
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M:%S} ({self.status})"

    @property
    def duration(self) -> timedelta | None:
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class OutboxMessage(models.Model):
    """An email stored instead of sent: the embedded default, read on the /outbox/ page."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    subject = models.CharField(max_length=998)
    from_email = models.CharField(max_length=998)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    bcc = models.JSONField(default=list)
    reply_to = models.JSONField(default=list)
    headers = models.JSONField(default=dict)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject

    @property
    def recipients(self) -> list[str]:
        return [*self.to, *self.cc, *self.bcc]


class AuditEntry(models.Model):
    """One thing a person (or a named part of the system) did: who, when, to what, what
    changed and why. Written by services in the same transaction as the change itself
    (voc.core.audit.audit_record), never by signals.

    ``customer_id`` names the customer whose personal data the entry may hold, so an erasure
    can keep the entry and drop its values (voc.core.audit.audit_forget_customers)."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The person; empty for a system actor.",
    )
    actor_name = models.CharField(
        max_length=150, help_text="The person's username, or the system actor's name."
    )
    action = models.CharField(max_length=60, help_text='What was done, e.g. "contact.update".')
    target_type = models.CharField(max_length=60, blank=True, help_text='"app_label.model"')
    target_id = models.BigIntegerField(null=True, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(
        default=dict, blank=True, help_text="{field: [before, after]} or counts for a batch."
    )
    why = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-at"], name="audit_target"),
            models.Index(fields=["customer_id"], name="audit_customer"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.target_type}:{self.target_id}"

    @property
    def change_items(self) -> list[dict[str, Any]]:
        """The changes as rows for a page: an edit's [before, after] pairs, or a batch's counts."""
        items = []
        for name, value in (self.changes or {}).items():
            if isinstance(value, list) and len(value) == 2:
                before, after = (None if item == "" else item for item in value)  # "" reads as —
                items.append({"field": name, "before": before, "after": after, "pair": True})
            else:
                items.append({"field": name, "before": None, "after": value, "pair": False})
        return items


class BusinessSettingValue(models.Model):
    """A value an admin set for a business setting (voc.core.business), at one scope: for
    everyone (no role, no team), for a role, or for a team (which wins over its members' role).
    Settings nobody has set have no row: their declared default applies.

    Written only by voc.core.business.business_setting_set/_reset, which audit each change."""

    key = models.CharField(max_length=100)
    role = models.CharField(max_length=20, blank=True, help_text="A role's value, or empty.")
    team = models.ForeignKey(
        "people.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="A team's value (wins over the role's), or empty.",
    )
    value = models.JSONField(help_text="As the setting's kind stores it (decimals as text).")
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["key", "role", "team_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="") | models.Q(team__isnull=True),
                name="bizsetting_role_or_team",
            ),
            # Three partial constraints rather than one over nullable columns: one value per
            # scope on PostgreSQL and SQLite alike.
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(role="", team__isnull=True),
                name="bizsetting_one_for_everyone",
            ),
            models.UniqueConstraint(
                fields=["key", "role"],
                condition=models.Q(team__isnull=True) & ~models.Q(role=""),
                name="bizsetting_one_per_role",
            ),
            models.UniqueConstraint(
                fields=["key", "team"],
                condition=models.Q(team__isnull=False),
                name="bizsetting_one_per_team",
            ),
        ]

    def __str__(self) -> str:
        if self.team_id:
            scope = f"team {self.team_id}"
        else:
            scope = f"role {self.role}" if self.role else "everyone"
        return f"{self.key} ({scope}) = {self.value}"


class SendOnce(models.Model):
    """An email that must reach its recipient once: one row per (purpose, key), such as
    ("loops.fix_notice", "issue:7:customer:42"), claimed by the worker that sends it
    (voc.core.sendonce). The unique constraint makes a second request for the same email
    impossible rather than unlikely."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown: check the email service"

    purpose = models.CharField(max_length=60)
    key = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    to = models.JSONField(default=list)
    template = models.CharField(max_length=100, help_text="emails/<template>-subject.txt etc.")
    context = models.JSONField(default=dict, blank=True, help_text="Rendered in the worker.")
    message_id = models.CharField(max_length=255, unique=True)
    esp_message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.CharField(max_length=150, help_text="A username or a system actor.")
    customer_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(help_text="When a task for it was last enqueued.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    handed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the claiming worker gave it to the email backend."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "key"], name="send_once_purpose_key"),
        ]
        indexes = [
            models.Index(fields=["status", "claimed_at"], name="send_once_status_claimed"),
            models.Index(fields=["customer_id"], name="send_once_customer"),
        ]
        verbose_name = "send-once email"

    def __str__(self) -> str:
        return f"{self.purpose} {self.key} ({self.status})"


class SignedLinkUse(models.Model):
    """A single-use signed link that has been used (voc.core.links): its nonce, unique, so
    a second use fails on the constraint even when two requests race."""

    purpose = models.CharField(max_length=60)
    nonce = models.CharField(max_length=32, unique=True)
    target_type = models.CharField(max_length=60)
    target_id = models.BigIntegerField()
    used_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="After this the link is refused anyway.")

    class Meta:
        ordering = ["-used_at"]
        indexes = [models.Index(fields=["expires_at"], name="signed_link_use_expiry")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.target_type}:{self.target_id} used {self.used_at:%Y-%m-%d}"
