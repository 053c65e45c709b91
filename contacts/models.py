from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from voc.people.models import HashedKeyToken


class ContactReason(models.Model):
    """A node of the contact-reason taxonomy ("Billing › Double charge").

    Reasons are never deleted once used: they are retired (hidden from pickers) or merged into
    another reason (contacts move, the old row stays so history and imports keep resolving)."""

    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    department = models.ForeignKey(
        "people.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reasons",
        help_text="The department that owns contacts for this reason and the issues behind them.",
    )
    avoidable = models.BooleanField(
        default=False,
        help_text="Customers should not have to contact us for this (the best service is no service).",
    )
    complaint = models.BooleanField(
        default=False,
        help_text="Contacts for this reason are complaints (its sub-reasons inherit this).",
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_reasons"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["parent__name", "name"]
        constraints = [
            models.UniqueConstraint("parent", Lower("name"), name="reason_unique_name_per_parent"),
            models.UniqueConstraint(
                Lower("name"),
                condition=Q(parent__isnull=True),
                name="reason_unique_top_level_name",
            ),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent is not None else self.name

    @property
    def is_active(self) -> bool:
        return self.retired_at is None and self.merged_into_id is None

    @property
    def is_complaint(self) -> bool:
        """Marked a complaint itself or through its parent (the taxonomy has two levels)."""
        return self.complaint or bool(self.parent_id and self.parent and self.parent.complaint)


class Customer(models.Model):
    """A customer of the company, as known to its systems. Ingestion matches a customer by
    external reference, then email (case-insensitive), then phone (E.164)."""

    class Segment(models.TextChoices):
        CONSUMER = "consumer", "Consumer"
        SMALL_BUSINESS = "small_business", "Small business"
        ENTERPRISE = "enterprise", "Enterprise"

    external_ref = models.CharField(
        max_length=100, null=True, blank=True, unique=True, help_text="The id in the CRM."
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, e.g. +15551234567")
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.CONSUMER)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_customers",
        help_text="Set when an admin merged this record into another; its history moved there.",
    )
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the customer was erased: identity and texts are gone, counts stay.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(Lower("email"), name="customer_email_ci"),
            models.Index(fields=["phone"], name="customer_phone"),
        ]

    def __str__(self) -> str:
        return self.label_of(
            pk=self.pk, name=self.name, external_ref=self.external_ref, erased_at=self.erased_at
        )

    @staticmethod
    def label_of(*, pk: int, name: str, external_ref: str | None, erased_at: object) -> str:
        """How a customer is named, from its values (for lists read without the model)."""
        if erased_at:
            return "Erased customer"
        return name or external_ref or f"Customer {pk}"


class CustomerEvent(models.Model):
    """A lifecycle event for customer math: gained, lost, won back, with its reason."""

    class Kind(models.TextChoices):
        GAINED = "gained", "Gained"
        LOST = "lost", "Lost"
        WON_BACK = "won_back", "Won back"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_on = models.DateField()
    reason = models.ForeignKey(
        ContactReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason_text = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["kind", "occurred_on"], name="customer_event_kind_day")]

    def __str__(self) -> str:
        return f"{self.customer} {self.get_kind_display().lower()} on {self.occurred_on}"


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    CHAT = "chat", "Chat"
    SOCIAL = "social", "Social"
    WEB_FORM = "web_form", "Web form"
    LETTER = "letter", "Letter"
    WALK_IN = "walk_in", "Walk-in"
    OTHER = "other", "Other"


class Contact(models.Model):
    """One conversation with a customer on one channel. Unique on (source, external_id), so a
    re-sent batch updates instead of duplicating."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", "Resolved"
        UNRESOLVED = "unresolved", "Unresolved"
        ESCALATED = "escalated", "Escalated"
        TRANSFERRED = "transferred", "Transferred"
        CALLBACK = "callback", "Callback promised"
        LINK_SENT = "link_sent", "Sent a link"
        ABANDONED = "abandoned", "Abandoned"
        OPEN = "open", "Still open"

    class Road(models.IntegerChoices):
        """Seth Godin's four roads: what the company should do with this kind of contact."""

        LEARN = 1, "1 · Learn"
        EMPATHY = 2, "2 · Empathy"
        TEACH = 3, "3 · Teach"
        GO_AWAY = 4, "4 · Go away"

    source = models.CharField(max_length=50)
    external_id = models.CharField(max_length=200)
    # customer and team are indexed by the composite indexes below, which lead with them.
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        db_index=False,
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.INBOUND)
    occurred_at = models.DateTimeField()
    occurred_date_only = models.BooleanField(
        default=False,
        help_text=(
            'The source gave a day without a time (a regulator\'s "Date received"): '
            "occurred_at holds noon UTC of that day, and the day counts as itself in every "
            "reporting time zone."
        ),
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    team = models.ForeignKey(
        "people.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        db_index=False,
    )
    reason = models.ForeignKey(
        ContactReason, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    tags = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    handle_seconds = models.PositiveIntegerField(null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How long the customer waited before a person answered (queue, hold, reply).",
    )
    # The customer's segment when the contact was linked to them, so a customer who moves to
    # another segment does not move their past contacts (dashboards filter by it).
    customer_segment = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    first_contact_resolution = models.BooleanField(null=True, blank=True)
    road = models.PositiveSmallIntegerField(choices=Road.choices, null=True, blank=True)
    sentiment = models.FloatField(
        null=True, blank=True, help_text="-1 (negative) to 1 (positive); computed after ingest."
    )
    repeat_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeats",
        help_text="The same customer's previous contact within the repeat window.",
    )
    outcome_set_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the outcome was last set; empty for ingested rows (occurred_at stands in).",
    )
    # A digest of everything ingestion wrote, so a re-sent row that changed nothing is
    # recognised without comparing every field and message.
    content_hash = models.CharField(max_length=32, blank=True)
    # How many of its messages the customer wrote (incoming), kept by every path that writes
    # messages, so email ping-pong over a period reads contacts, not their messages.
    customer_messages = models.PositiveIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="contact_source_ref"),
            models.CheckConstraint(
                condition=Q(road__isnull=True) | Q(road__gte=1, road__lte=4),
                name="contact_road_1_4",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="contact_customer_time"),
            models.Index(fields=["team", "occurred_at"], name="contact_team_time"),
            # Newest-first lists and searches over every team (executives, admins).
            models.Index(fields=["occurred_at"], name="contact_time"),
            # The contact budget's "is a contact of this customer open?", answered from the
            # index alone; only open and callback contacts pay for it.
            models.Index(
                fields=["customer", "occurred_at", "outcome_set_at"],
                condition=Q(outcome__in=["open", "callback"]),
                name="contact_open_customer",
            ),
            # The email threads in which the customer wrote three times or more (ping-pong,
            # contacts.pingpong.CUSTOMER_MESSAGES), by time: a few in a hundred contacts. It
            # holds every column the dashboard's count and longest threads filter or sort on,
            # so PostgreSQL answers them from the index alone.
            models.Index(
                fields=[
                    "occurred_at",
                    "occurred_date_only",
                    "customer_messages",
                    "team",
                    "reason",
                    "customer_segment",
                    "id",
                ],
                condition=Q(channel="email", customer_messages__gte=3),
                name="contact_pingpong_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} contact {self.source}:{self.external_id}"


class Message(models.Model):
    """One incoming or outgoing text of a contact, in order. Text is stored redacted."""

    class Direction(models.TextChoices):
        INCOMING = "incoming", "Incoming"
        OUTGOING = "outgoing", "Outgoing"

    # Indexed by the (contact, external_id) unique constraint, which leads with it.
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    external_id = models.CharField(max_length=200)
    position = models.PositiveIntegerField()
    direction = models.CharField(max_length=8, choices=Direction.choices)
    author = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    text = models.TextField()

    class Meta:
        ordering = ["contact", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "external_id"], name="message_contact_ref")
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_direction_display()} message {self.position} of contact {self.contact_id}"
        )


class RedactionPattern(models.Model):
    """An extra pattern an admin wants removed from customer text before it is stored."""

    name = models.CharField(
        max_length=60, unique=True, help_text="Shown in the text: [name redacted]"
    )
    regex = models.CharField(max_length=500)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RollupCounts(models.Model):
    """What the contact rollups (daily and weekly) share: the key but its period, and the
    counted columns, all sums: contacts, handle and wait time with how many contacts gave a
    value (an average divides by the latter), repeats, negative sentiment, roads,
    first-contact resolution and outcomes."""

    reason_id = models.BigIntegerField(default=0)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    team_id = models.BigIntegerField(default=0)
    segment = models.CharField(max_length=20, blank=True, default="")
    contacts = models.IntegerField(default=0)
    handle_seconds = models.BigIntegerField(default=0)
    handled_contacts = models.IntegerField(default=0)
    wait_seconds = models.BigIntegerField(default=0)
    waited_contacts = models.IntegerField(default=0)
    repeat_contacts = models.IntegerField(default=0)
    negative_contacts = models.IntegerField(default=0)
    # Road set by a person (1 learn … 4 go away); contacts with no road are the rest.
    road_1 = models.IntegerField(default=0)
    road_2 = models.IntegerField(default=0)
    road_3 = models.IntegerField(default=0)
    road_4 = models.IntegerField(default=0)
    # First-contact resolution answered yes / no (unanswered are the rest).
    fcr_yes = models.IntegerField(default=0)
    fcr_no = models.IntegerField(default=0)
    # Contacts by outcome (Contact.Outcome); contacts with no outcome are the rest.
    outcome_resolved = models.IntegerField(default=0)
    outcome_unresolved = models.IntegerField(default=0)
    outcome_escalated = models.IntegerField(default=0)
    outcome_transferred = models.IntegerField(default=0)
    outcome_callback = models.IntegerField(default=0)
    outcome_link_sent = models.IntegerField(default=0)
    outcome_abandoned = models.IntegerField(default=0)
    outcome_open = models.IntegerField(default=0)

    class Meta:
        abstract = True


class ContactRollup(RollupCounts):
    """Pre-aggregated counts per day (reporting time zone) × reason × channel × team × customer
    segment (at contact time), kept current by every write path in the same transaction (the
    write primitive, contacts.changes). Dashboards read these through contacts.reporting.

    reason_id and team_id are plain integers (0 = none) and segment "" means no customer,
    rather than NULLs, so the key is never NULL and one unique index covers it on every
    database. A reason's complaint or avoidable flag is read from the reason, not kept here."""

    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "reason_id", "channel", "team_id", "segment"], name="rollup_key"
            )
        ]

    def __str__(self) -> str:
        segment = self.segment or "no customer"
        return f"{self.day} reason={self.reason_id} {self.channel} team={self.team_id} {segment}"


class ContactWeekRollup(RollupCounts):
    """ContactRollup added up by week (the Monday of the reporting day's week), with the same
    key otherwise. A year of daily rows is about five times as many rows to add up: a figure
    over a long period reads its whole weeks here and only the partial weeks at its ends from
    ContactRollup (contacts.reporting.rollup_totals). Kept current by the same write as the
    daily rows, in the same transaction (contacts.rollups.RollupDelta.apply), and rebuilt
    with them."""

    week = models.DateField(help_text="The Monday of the week (reporting time zone)")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "reason_id", "channel", "team_id", "segment"],
                name="week_rollup_key",
            )
        ]

    def __str__(self) -> str:
        segment = self.segment or "no customer"
        return (
            f"week of {self.week} reason={self.reason_id} {self.channel} team={self.team_id} "
            f"{segment}"
        )


class IngestToken(HashedKeyToken):
    """An API token for a system that sends contacts: bound to one source, revocable.

    Rows sent with it are stored under its source whatever they say, so one integration can
    never overwrite another's contacts. Only a hash of the key is stored."""

    PREFIX = "vocingest_"
    HINT_CHARS = 4

    name = models.CharField(max_length=100)
    source = models.CharField(max_length=50, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(HashedKeyToken.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.name} → {self.source}"


class ImportKind(models.TextChoices):
    """What a file import writes: its runs and saved mappings are kept apart by kind."""

    CONTACTS = "contacts", "Contacts"
    FEEDBACK = "feedback", "Feedback items"


class ImportMapping(models.Model):
    """A saved mapping from another system's export columns to an import's fields (see
    docs/ingest.md), reusable by name within its kind: ``import_contacts FILE --mapping NAME``,
    ``import_feedback FILE --mapping NAME``."""

    kind = models.CharField(max_length=12, choices=ImportKind.choices, default=ImportKind.CONTACTS)
    name = models.CharField(max_length=100)
    config = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="importmapping_kind_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ImportRun(models.Model):
    """One run of a file import: what it imported, who ran it, which file, what came of it."""

    class Status(models.TextChoices):
        # The values of voc.core.imports.runs' statuses.
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted"

    kind = models.CharField(max_length=12, choices=ImportKind.choices, default=ImportKind.CONTACTS)
    file_name = models.CharField(max_length=500)
    mapping_name = models.CharField(max_length=100, blank=True)
    started_by = models.CharField(max_length=150, blank=True, help_text="User or OS account.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    error_report = models.CharField(max_length=500, blank=True, help_text="Path of the report.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


class SupportMailbox(models.Model):
    """A support address VoC receives mail for. Mail to it is an incoming customer message;
    mail from it (the mailbox's bcc of its own replies) is an outgoing one. Each address belongs
    to a team, so every email contact lands in someone's scope."""

    address = models.EmailField(
        max_length=254, unique=True, help_text="Stored in lower case, e.g. help@example.com"
    )
    team = models.ForeignKey("people.Team", on_delete=models.PROTECT, related_name="mailboxes")
    default_reason = models.ForeignKey(
        ContactReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Given to new email contacts until a rep classifies them.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["address"]
        verbose_name_plural = "support mailboxes"

    def __str__(self) -> str:
        return self.address

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)


class InboundEmail(models.Model):
    """One email as an ESP's inbound webhook delivered it, stored (redacted) before anything
    else happens so the webhook can answer at once; a task then threads it into a contact.
    Unique on Message-ID, so a redelivered email is stored once."""

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        SPAM = "spam", "Spam"
        AUTO_REPLY = "auto_reply", "Auto-reply"
        BOUNCE = "bounce", "Bounce"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be threaded"
        THREADED = "threaded", "Added to a contact"
        SKIPPED = "skipped", "Not a customer message"
        ERASED = "erased", "From an erased customer"
        FAILED = "failed", "Failed"

    class Direction(models.TextChoices):
        INCOMING = "incoming", "Incoming"
        OUTGOING = "outgoing", "Outgoing"

    message_id = models.CharField(max_length=500, unique=True)
    esp = models.CharField(max_length=30, help_text="The provider that delivered it.")
    received_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="The Date header.")
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_addresses = models.JSONField(default=list, blank=True)
    cc_addresses = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.JSONField(default=list, blank=True, help_text="Message-IDs, oldest first.")
    text = models.TextField(blank=True, help_text="The body as text, redacted, quotes included.")
    headers = models.JSONField(
        default=dict, blank=True, help_text="Only the headers that classify the mail."
    )
    spam_detected = models.BooleanField(null=True, blank=True)
    spam_score = models.FloatField(null=True, blank=True)
    attachments = models.JSONField(
        default=list, blank=True, help_text="Name, type and size of each; never the content."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MESSAGE)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True)
    mailbox = models.ForeignKey(
        SupportMailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["kind", "received_at"], name="inbound_kind_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} <{self.message_id}>"

    @staticmethod
    def cleared_content() -> dict[str, Any]:
        """The content fields, emptied: what an erased customer's email keeps."""
        return {
            "from_address": "",
            "from_name": "",
            "to_addresses": [],
            "cc_addresses": [],
            "subject": "",
            "in_reply_to": "",
            "references": [],
            "text": "",
            "headers": {},
            "attachments": [],
        }


class CustomerErasure(models.Model):
    """The record that a customer was erased: who did it, when and how much was removed, and
    never what was removed."""

    erased_at = models.DateTimeField(auto_now_add=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_id_erased = models.BigIntegerField(
        help_text="The id the anonymised customer row keeps; nothing else identifies them."
    )
    counts = models.JSONField(default=dict, help_text="Rows removed or anonymised, per kind.")
    note = models.CharField(
        max_length=200, blank=True, help_text="A ticket reference; never personal data."
    )

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"Erasure of customer {self.customer_id_erased} on {self.erased_at:%Y-%m-%d}"


class ErasureTombstone(models.Model):
    """Stops an erased customer from coming back through a re-import or an email. Holds only
    keyed hashes (HMAC) of the normalised identifiers, never the values."""

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact (source and external id)"
        CUSTOMER_REF = "customer_ref", "Customer reference"
        EMAIL = "email", "Email address"
        PHONE = "phone", "Phone number"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    digest = models.CharField(max_length=64)
    erasure = models.ForeignKey(
        CustomerErasure, on_delete=models.CASCADE, related_name="tombstones"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "digest"], name="tombstone_kind_digest")
        ]

    def __str__(self) -> str:
        return f"{self.kind} tombstone"


# The contact budget (contacts/budget/): who was contacted for what and when, and who said no.
# Rows hold customer ids and purposes, never personal values; erasure deletes them and merges
# move them (contacts.budget.services).


class BudgetPurpose(models.TextChoices):
    """Why VoC would contact a customer; each purpose has its own rule (contacts.budget.rules)."""

    SURVEY = "survey", "Survey"
    CALLBACK = "callback", "Callback"
    FIX_NOTICE = "fix_notice", "Fix notice"
    OUTREACH = "outreach", "Outreach"
    THANKS = "thanks", "Thank-you"


class BudgetTouch(models.Model):
    """One touch of a customer: written only by ``budget_claim`` when the budget allowed it.
    ``key`` says what it was about (the issue of a fix notice, the contact of a survey)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    purpose = models.CharField(max_length=12, choices=BudgetPurpose.choices)
    key = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, help_text="The user or the part of VoC.")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # The rules' question: this customer's latest touch for this purpose.
            models.Index(fields=["customer", "purpose", "at"], name="budget_touch_customer"),
        ]
        constraints = [
            # Doubles impossible, not just unlikely: one fix notice per customer and issue.
            models.UniqueConstraint(
                fields=["customer", "purpose", "key"],
                condition=Q(purpose="fix_notice"),
                name="budget_fix_notice_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} of customer {self.customer_id} at {self.at:%Y-%m-%d}"


class BudgetRefusal(models.Model):
    """One "no" of ``budget_claim``, with its reason: why a customer was not contacted."""

    class Reason(models.TextChoices):
        OPTED_OUT = "opted_out", "Opted out"
        COOL_DOWN = "cool_down", "Within the cool-down"
        CONTACT_OPEN = "contact_open", "A contact is still open"
        ALREADY_SENT = "already_sent", "Already sent for this key"
        ERASED = "erased", "Customer erased"
        MERGED = "merged", "Merged into another customer"
        UNKNOWN = "unknown", "No such customer"

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    purpose = models.CharField(max_length=12, choices=BudgetPurpose.choices)
    key = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, help_text="The user or the part of VoC.")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer", "at"], name="budget_refusal_customer"),
            # "Why not?" for one list or notice: its refusals by key (budget_refusal_reasons).
            models.Index(fields=["purpose", "key"], name="budget_refusal_key"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_purpose_display()} refused ({self.reason}) for customer {self.customer_id}"
        )


class BudgetOptOut(models.Model):
    """A customer's no to one purpose, set by a rep or through a signed link; until removed."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    purpose = models.CharField(max_length=12, choices=BudgetPurpose.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, help_text="The user or the part of VoC.")

    class Meta:
        ordering = ["customer", "purpose"]
        verbose_name = "budget opt-out"
        constraints = [
            models.UniqueConstraint(fields=["customer", "purpose"], name="budget_opt_out_once")
        ]

    def __str__(self) -> str:
        return f"Customer {self.customer_id} opted out of {self.get_purpose_display().lower()}"


# Make it right (contacts/gestures/): goodwill gestures a rep gives on a contact, within their
# allowance at once, above it after a manager's approval.


class Gesture(models.Model):
    """A goodwill gesture given on a contact: a credit, a refund, a fee waived, a replacement
    or a call back from a specialist, worth ``value`` in ``currency`` (the business currency
    when it was given). Written only by contacts.gestures.services."""

    class Kind(models.TextChoices):
        CREDIT = "credit", "Credit"
        REFUND = "refund", "Refund"
        FEE_WAIVER = "fee_waiver", "Fee waiver"
        REPLACEMENT = "replacement", "Replacement"
        SPECIALIST_CALL = "specialist_call", "Call back from a specialist"

    class State(models.TextChoices):
        GRANTED = "granted", "Granted"  # within the giver's allowance: no approval needed
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="gestures")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=500, blank=True, help_text="Redacted before it is stored.")
    state = models.CharField(max_length=10, choices=State.choices)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gestures_given"
    )
    # The giver's team when they gave it: who may approve it, and the report's team.
    team = models.ForeignKey(
        "people.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="gestures"
    )
    given_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="gestures_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        indexes = [
            # The month's allowance: what one person granted themselves since the 1st.
            models.Index(fields=["given_by", "state", "given_at"], name="gesture_giver_month"),
            # "Gestures waiting for you": few rows, read on every home page of an approver.
            models.Index(
                fields=["team", "given_at"],
                condition=Q(state="pending"),
                name="gesture_pending_team",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="gesture_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.value} {self.currency} on contact {self.contact_id}"
