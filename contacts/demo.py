"""Demo customers and contacts for a telecom, in volume.

Contacts go through the real ingest service (redaction, matching, repeats, rollups), spread
over the last weeks with a weekly rhythm, an outage spike, a rising checkout problem, repeat
callers, and a few customers lost and gained."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from contacts.ingest.service import contacts_ingest, parse_options
from contacts.models import Contact, ContactReason, Customer, CustomerEvent, SupportMailbox
from contacts.services.customers import customer_update
from contacts.services.sentiment import contact_sentiment_update
from voc.core.audit import SystemActor
from voc.core.demo import DemoContext

FIRST = [
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Drew",
    "Noor", "Mateo", "Priya", "Lena", "Omar", "Hana", "Luca", "Sofia", "Kwame", "Mei",
]  # fmt: skip
LAST = [
    "Smith", "Jones", "Brown", "Wilson", "Taylor", "Clarke", "Ahmed", "Kim", "Lopez", "Meyer",
    "Singh", "Walsh", "Berg", "Rahman", "Costa", "Young", "Hall", "Park", "Duarte", "Ward",
]  # fmt: skip
SEGMENTS = [
    (Customer.Segment.CONSUMER, 80),
    (Customer.Segment.SMALL_BUSINESS, 15),
    (Customer.Segment.ENTERPRISE, 5),
]
BATCH = 5000

# department, parent reason, child reason, avoidable, weight, customer's words, rep's reply
REASONS = [
    ("Billing", "Billing", "Double charge", True, 8,
     ["I was charged twice this month, again. This is the third time.",
      "Why is there a second payment of the same amount on my card 4111 1111 1111 1111?"],
     ["I'm sorry, I have refunded the second charge; it shows in 3-5 days."]),
    ("Billing", "Billing", "Bill higher than expected", True, 10,
     ["My bill went up and nobody told me why.", "The new bill is much higher than my plan."],
     ["The promotional discount ended last month; I have applied a loyalty discount."]),
    ("Billing", "Billing", "Payment failed", False, 5,
     ["My payment keeps failing on the website.", "Card declined but my bank says it is fine."],
     ["I have updated the payment method and retried the payment, it went through."]),
    ("Technical Support", "Internet", "No connection", False, 9,
     ["My internet has been down since this morning and I work from home!",
      "No connection at all, the router light is red."],
     ["I have reset the line from our side; please restart the router."]),
    ("Technical Support", "Internet", "Slow speed", False, 7,
     ["The speed is terrible in the evenings.", "I pay for 500 Mb and get 40."],
     ["I've opened a ticket with the network team and sent a speed test link."]),
    ("Technical Support", "Internet", "Router setup", True, 6,
     ["How do I set up the new router? The manual makes no sense.",
      "I can't get the Wi-Fi password to work on the new box."],
     ["I walked you through the setup; here is the guide for next time."]),
    ("Delivery & Installation", "Installation", "Missed appointment", False, 4,
     ["The technician never showed up. I took a day off for this.",
      "I waited all day for the installation and nobody came."],
     ["I'm very sorry. I have booked a new slot and added a credit to your account."]),
    ("Digital (Web & App)", "Website", "Checkout error", True, 6,
     ["The website gives an error when I try to order the upgrade.",
      "Checkout fails at the last step, error 500."],
     ["I placed the order for you by phone; our web team knows about the error."]),
    ("Digital (Web & App)", "App", "Login problem", True, 5,
     ["I can't log into the app since the update.", "The app says my password is wrong."],
     ["I sent you a password reset link."]),
    ("Sales & Retention", "Account", "Cancel service", False, 4,
     ["I want to cancel. Your competitor is cheaper and actually works.",
      "Please cancel my contract, I am moving."],
     ["I have processed the cancellation; your final bill comes next month."]),
    ("Sales & Retention", "Account", "Plan change", False, 5,
     ["I'd like a bigger data plan please.", "Can I switch to the family plan?"],
     ["Done, the new plan starts on your next billing date. Thanks for staying with us!"]),
    ("Network Operations", "Network", "Outage in area", False, 3,
     ["Is there an outage in my area? Everything is down.", "Whole street has no service."],
     ["Yes, there is a known outage; engineers are on site."]),
]  # fmt: skip
CHANNELS = [("phone", 45), ("email", 20), ("chat", 25), ("social", 5), ("web_form", 5)]
OUTCOMES = [("resolved", 60), ("unresolved", 10), ("escalated", 8), ("link_sent", 12),
            ("callback", 5), ("transferred", 5)]  # fmt: skip
DAYS = 120


def seed_customers(ctx: DemoContext) -> None:
    rng = ctx.rng
    segments = [segment for segment, _ in SEGMENTS]
    weights = [weight for _, weight in SEGMENTS]
    batch: list[Customer] = []
    for number in range(1, ctx.customers + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        batch.append(
            Customer(
                external_ref=f"CRM-{number:07d}",
                name=f"{first} {last}",
                email=f"{first}.{last}.{number}@mail.example".lower(),
                phone=f"+1202555{number % 10000:04d}",
                segment=rng.choices(segments, weights)[0],
            )
        )
        if len(batch) >= BATCH:
            Customer.objects.bulk_create(batch)
            batch.clear()
    Customer.objects.bulk_create(batch)
    ctx.stdout(f"  contacts: {ctx.customers} customers")
    if ctx.contacts:
        seed_contacts(ctx)
    _seed_mailboxes(ctx)


# support address, team, default reason (top-level) until a rep classifies the contact
MAILBOXES = [
    ("billing@northwind.example", "Billing Care", "Billing"),
    ("support@northwind.example", "Tech Support Tier 1", "Internet"),
    ("help@northwind.example", "Digital Help", None),
]


def _seed_mailboxes(ctx: DemoContext) -> None:
    """The support addresses inbound email arrives at (docs/inbound-email.md)."""
    teams = {team.name: team for team in ctx.data.get("teams", [])}
    created = 0
    for address, team_name, reason_name in MAILBOXES:
        if team_name not in teams:
            continue
        reason = (
            ContactReason.objects.filter(name=reason_name, parent=None).first()
            if reason_name
            else None
        )
        SupportMailbox.objects.create(address=address, team=teams[team_name], default_reason=reason)
        created += 1
    ctx.stdout(f"  contacts: {created} support mailboxes")
    if created:
        _seed_inbound_email(ctx)


DEMO_CRM = SystemActor("ingest:crm")

# (hours ago, Message-ID, From, To, Subject, text, In-Reply-To, extra headers, spam)
DEMO_EMAILS = [
    (50, "demo-1@mail.example", "Noor Rahman <noor.rahman@mail.example>",
     "billing@northwind.example", "Charged twice for November",
     "Hello,\n\nmy card was charged twice for the November bill. Please refund one of them.\n\n"
     "Noor", None, {}, False),
    (46, "demo-2@northwind.example", "Northwind Billing <billing@northwind.example>",
     "Noor Rahman <noor.rahman@mail.example>", "Re: Charged twice for November",
     "Hello Noor,\n\nsorry about that: the second charge is refunded and shows in 3-5 days.\n\n"
     "Sam, Northwind Billing", "demo-1@mail.example", {}, False),
    (20, "demo-3@mail.example", "Noor Rahman <noor.rahman@mail.example>",
     "billing@northwind.example", "Re: Charged twice for November",
     "Five days later and still no refund. This is the third time I have had to write.\n\n"
     "On Mon, Sam wrote:\n> sorry about that: the second charge is refunded and shows in 3-5 days.",
     "demo-2@northwind.example", {}, False),
    (18, "demo-3a@northwind.example", "Northwind Billing <billing@northwind.example>",
     "Noor Rahman <noor.rahman@mail.example>", "Re: Charged twice for November",
     "Hello Noor,\n\nour records show the refund was issued. Please allow a few more days for "
     "your bank.\n\nSam, Northwind Billing", "demo-3@mail.example", {}, False),
    (3, "demo-3b@mail.example", "Noor Rahman <noor.rahman@mail.example>",
     "billing@northwind.example", "Re: Charged twice for November",
     "My bank says no refund was ever sent. I would rather talk to someone than write again.",
     "demo-3a@northwind.example", {}, False),
    (30, "demo-4@mail.example", "Luca Costa <luca.costa@mail.example>",
     "support@northwind.example", "Internet down since yesterday",
     "The internet has been down since yesterday evening. The router light is red.", None, {},
     False),
    (29, "demo-5@mail.example", "Luca Costa <luca.costa@mail.example>",
     "support@northwind.example", "Automatic reply: Internet down since yesterday",
     "I am out of the office until Monday.", None, {"Auto-Submitted": "auto-replied"}, False),
    (12, "demo-6@mail.example", "Prize Desk <winner@lottery.example>",
     "help@northwind.example", "You have won", "Claim your prize now.", None, {}, True),
    (6, "demo-7@mail.example", "Mail Delivery System <mailer-daemon@mail.example>",
     "help@northwind.example", "Undelivered Mail Returned to Sender",
     "This is the mail system. Your message could not be delivered.", None, {}, False),
]  # fmt: skip


def _seed_inbound_email(ctx: DemoContext) -> None:
    """A few emails through the real inbound path (stored, then threaded here rather than by
    the worker, so the demo does not wait for one): a thread in which the customer has written
    three times between the mailbox's replies, a new thread, and an auto-reply, spam and a bounce for the admins'
    Inbound email page."""
    from email.message import EmailMessage
    from email.utils import format_datetime

    from anymail.inbound import AnymailInboundMessage

    from contacts.inbound.services import inbound_email_store, inbound_email_thread

    # Noon today, not the clock: the same seed on the same day gives the same data.
    now = timezone.make_aware(datetime.combine(timezone.localdate(), time(12)))
    for hours, message_id, sender, to, subject, text, reply_to, headers, spam in DEMO_EMAILS:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = sender, to, subject
        mail["Date"] = format_datetime(now - timedelta(hours=hours))
        mail["Message-ID"] = f"<{message_id}>"
        if reply_to:
            mail["In-Reply-To"] = mail["References"] = f"<{reply_to}>"
        for name, value in headers.items():
            mail[name] = value
        mail.set_content(text)
        message = AnymailInboundMessage.parse_raw_mime_bytes(mail.as_bytes())
        message.spam_detected = spam or None
        email, _ = inbound_email_store(message=message, esp="demo")
        inbound_email_thread(inbound_id=email.id)
    contact_sentiment_update(
        contact_ids=Contact.objects.filter(source="email").values_list("id", flat=True)
    )
    # Noor has written three times about the double charge (the rep's "call the customer",
    # contacts.pingpong); the CRM knows her number.
    noor = Customer.objects.filter(email="noor.rahman@mail.example").first()
    if noor is not None:
        customer_update(customer=noor, changes={"phone": "+15550142207"}, by=DEMO_CRM)
    ctx.stdout(f"  contacts: {len(DEMO_EMAILS)} inbound emails")


def _reasons(ctx: DemoContext) -> list[tuple[ContactReason, tuple]]:
    departments = {department.name: department for department in ctx.data.get("departments", [])}
    parents: dict[str, ContactReason] = {}
    reasons = []
    for spec in REASONS:
        department_name, parent_name, name, avoidable = spec[:4]
        department = departments.get(department_name)
        if parent_name not in parents:
            parents[parent_name] = ContactReason.objects.create(
                name=parent_name, department=department
            )
        reason = ContactReason.objects.create(
            name=name, parent=parents[parent_name], department=department, avoidable=avoidable
        )
        reasons.append((reason, spec))
    return reasons


def _day_weight(day: date) -> float:
    """Fewer contacts at weekends, more on Mondays."""
    weekday = day.weekday()
    return 0.45 if weekday >= 5 else 1.15 if weekday == 0 else 1.0


def seed_contacts(ctx: DemoContext) -> None:
    rng = ctx.rng
    reasons = _reasons(ctx)
    reps = ctx.data.get("reps", [])
    today = timezone.localdate()
    start = today - timedelta(days=DAYS)
    days = [start + timedelta(days=offset) for offset in range(DAYS)]
    day_weights = [_day_weight(day) for day in days]
    outage_week = start + timedelta(days=DAYS - 40)
    channels, channel_weights = zip(*CHANNELS, strict=True)
    outcomes, outcome_weights = zip(*OUTCOMES, strict=True)
    customer_count = ctx.customers
    rows = []
    for number in range(ctx.contacts):
        day = rng.choices(days, day_weights)[0]
        weights = []
        for _, spec in reasons:
            weight = spec[4]
            if spec[2] == "Outage in area" and outage_week <= day < outage_week + timedelta(days=5):
                weight *= 12  # an outage spike
            if spec[2] == "Checkout error":
                weight *= 0.3 + 2.5 * ((day - start).days / DAYS) ** 2  # a rising driver
            weights.append(weight)
        _, spec = rng.choices(reasons, weights)[0]
        # Repeat callers: a third of contacts come from a small pool of frequent customers.
        if rng.random() < 0.33:
            customer_number = rng.randint(1, max(1, customer_count // 20))
        else:
            customer_number = rng.randint(1, customer_count)
        rep = rng.choice(reps) if reps else None
        at = datetime.combine(day, time(8, 0), tzinfo=timezone.get_current_timezone())
        at += timedelta(minutes=rng.randint(0, 11 * 60))
        outcome = rng.choices(outcomes, outcome_weights)[0]
        channel = rng.choices(channels, channel_weights)[0]
        words = rng.choice(spec[5])
        messages = [{"direction": "incoming", "text": words}]
        if rng.random() < 0.8:
            messages.append({"direction": "outgoing", "text": rng.choice(spec[6])})
        rows.append(
            {
                "source": "demo",
                "external_id": f"demo-{number:07d}",
                "subject": words.split(".")[0].split("?")[0][:80],
                "channel": channel,
                "occurred_at": at,
                "customer_ref": f"CRM-{customer_number:07d}" if customer_count else None,
                "rep": rep.username if rep else None,
                "reason": [spec[1], spec[2]],  # parent, reason
                "handle_seconds": rng.randint(60, 1200)
                if channel == "phone"
                else rng.randint(120, 900),
                "outcome": outcome,
                "first_contact_resolution": outcome == "resolved" and rng.random() < 0.8,
                "road": rng.choice([None, None, 1, 2, 3, 4]),
                "tags": rng.sample(
                    ["vip", "second-time", "complaint", "callback", "mobile"], k=rng.randint(0, 2)
                ),
                "messages": messages,
            }
        )
    options = parse_options()
    created = 0
    for batch_start in range(0, len(rows), BATCH):
        result = contacts_ingest(rows=rows[batch_start : batch_start + BATCH], options=options)
        created += result.created
        if result.rejected:
            raise RuntimeError(f"demo rows rejected: {result.rejected[:3]}")
    scored = 0
    ids = list(Contact.objects.filter(source="demo").values_list("id", flat=True))
    for batch_start in range(0, len(ids), 1000):
        scored += contact_sentiment_update(contact_ids=ids[batch_start : batch_start + 1000])
    _seed_lifecycle(ctx, reasons, today)
    ctx.stdout(f"  contacts: {created} contacts over {DAYS} days, {scored} scored for sentiment")


def _seed_lifecycle(ctx: DemoContext, reasons, today: date) -> None:
    rng = ctx.rng
    by_name = {reason.name: reason for reason, _ in reasons}
    events = []
    customers = list(Customer.objects.order_by("id").values_list("id", flat=True))
    rng.shuffle(customers)
    gained = max(1, len(customers) * 8 // 100)
    lost = gained + max(1, len(customers) * 5 // 100)
    won_back = lost + max(1, len(customers) // 100)
    for customer_id in customers[:gained]:
        events.append(
            CustomerEvent(
                customer_id=customer_id,
                kind=CustomerEvent.Kind.GAINED,
                occurred_on=today - timedelta(days=rng.randint(0, DAYS)),
                reason_text=rng.choice(["Referral", "Price promotion", "Moved into coverage"]),
            )
        )
    for customer_id in customers[gained:lost]:
        reason = by_name[
            rng.choice(["Cancel service", "Checkout error", "Missed appointment", "Slow speed"])
        ]
        events.append(
            CustomerEvent(
                customer_id=customer_id,
                kind=CustomerEvent.Kind.LOST,
                occurred_on=today - timedelta(days=rng.randint(0, DAYS)),
                reason=reason,
            )
        )
    for customer_id in customers[lost:won_back]:
        events.append(
            CustomerEvent(
                customer_id=customer_id,
                kind=CustomerEvent.Kind.WON_BACK,
                occurred_on=today - timedelta(days=rng.randint(0, 30)),
                reason_text="Retention offer",
            )
        )
    CustomerEvent.objects.bulk_create(events)
