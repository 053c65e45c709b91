"""A digest's threads are read as values and printed from strings made once
(loops/digests/emails.py): what the email says of each thread and message is what the
straightforward way gave, model instances through the template's own tags and filters, for
named, erased and unknown customers, subjects with markup, our replies, messages without a
time of their own, texts past the clipping limit and a reader in another time zone; customer
text stays escaped."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db.models.functions import Coalesce
from django.template import Context, Template
from django.urls import reverse

from contacts.models import Contact, Customer, Message
from loops.digests.emails import contact_url_maker
from loops.digests.selectors import MESSAGES_PER_THREAD, DigestFilters, digest_content
from loops.digests.services import SubscriptionData, digest_render, subscription_create
from tests.loops.world import contact_of, reason

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # the day before Berlin's spring change
START, END = DAY - timedelta(days=1), DAY + timedelta(days=2)

# The thread's lines as the templates printed them from model instances before.
REFERENCE_HTML = (
    "{% load tz digest_email %}{% timezone zone %}"
    "{{ contact.get_channel_display }} · {% if contact.customer %}{{ contact.customer }}"
    "{% else %}unknown customer{% endif %}{% if contact.subject %} · {{ contact.subject }}"
    "{% endif %} · <a href=\"{{ base_url }}{% url 'contacts:contact-detail' contact.id %}\"|"
    '{% for message in messages %}<div style="font-size:12px;color:#5f6b7a">'
    '{% if message.direction == "outgoing" %}We replied{% else %}Customer{% endif %}'
    "{% if message.at %} · {{ message.at|message_time }}{% endif %}</div>\n"
    '      <div style="white-space:pre-wrap;word-break:break-word;overflow-wrap:anywhere;'
    "{% if message.direction == 'outgoing' %}color:#3c4a5a;{% endif %}\">"
    "{{ message.text|clip:1500 }}</div>|{% endfor %}{% endtimezone %}"
)
REFERENCE_TEXT = (
    "{% load tz digest_email %}{% autoescape off %}{% timezone zone %}"
    "-- {{ contact.get_channel_display }} · {% if contact.customer %}{{ contact.customer }}"
    "{% else %}unknown customer{% endif %}{% if contact.subject %} · {{ contact.subject }}"
    "{% endif %}\n   {{ base_url }}{% url 'contacts:contact-detail' contact.id %}|"
    "{% for message in messages %}"
    '{% if message.direction == "outgoing" %}We replied{% else %}Customer{% endif %}'
    "{% if message.at %} ({{ message.at|message_time }}){% endif %}:\n"
    "{{ message.text|clip:1500 }}\n|{% endfor %}{% endtimezone %}{% endautoescape %}"
)


def _thread(team, *, at, texts, customer=None, subject="", channel="phone", dated=True):
    contact = contact_of(team, at=at, customer=customer, subject=subject)
    Contact.objects.filter(pk=contact.pk).update(channel=channel)
    for position, text in enumerate(texts):
        Message.objects.create(
            contact=contact,
            external_id=f"m{position}",
            position=position,
            direction="incoming" if position % 2 == 0 else "outgoing",
            text=text,
            sent_at=at + timedelta(hours=position) if dated else None,
        )
    return contact


@pytest.fixture
def world(cast):
    billing = reason("Billing", department=cast.dept_a)
    named = Customer.objects.create(name='<b>Ann & "Co"</b>', external_ref="C-1")
    erased = Customer.objects.create(name="Bea", external_ref="C-2", erased_at=DAY)
    by_ref = Customer.objects.create(name="", external_ref="C-3")
    made = [
        _thread(
            cast.team_a,
            at=DAY,
            customer=named,
            subject='Charged <twice> & "more"',
            channel="email",
            texts=["<script>alert(1)</script> charged twice", "Sorry, refunded.", "x" * 1600],
        ),
        _thread(cast.team_a, at=DAY + timedelta(hours=14), customer=erased, texts=["Still?"]),
        _thread(cast.team_b, at=DAY - timedelta(hours=3), customer=by_ref, texts=["Hello"]),
        _thread(cast.team_b, at=DAY - timedelta(hours=5), texts=["Call me"], dated=False),
        _thread(cast.team_a, at=DAY - timedelta(hours=6), texts=[f"n{n}" for n in range(9)]),
    ]
    Contact.objects.filter(pk=made[3].pk).update(customer=None, reason=billing)
    return made


def _reference(contact_id: int, zone: str, template: str) -> str:
    contact = Contact.objects.select_related("customer").get(pk=contact_id)
    messages = list(
        Message.objects.filter(contact=contact)
        .annotate(at=Coalesce("sent_at", "contact__occurred_at"))
        .filter(at__gte=START, at__lt=END)
        .order_by("position", "id")
    )[-MESSAGES_PER_THREAD:]
    context = {
        "contact": contact,
        "messages": messages,
        "zone": zone,
        "base_url": settings.VOC_BASE_URL,
    }
    return Template(template).render(Context(context))


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "UTC"])
def test_every_thread_reads_as_the_model_instances_printed_it(cast, world, zone):
    cast.executive.time_zone = zone
    cast.executive.save(update_fields=["time_zone"])
    subscription = subscription_create(
        user=cast.executive, data=SubscriptionData(name="Everything"), by=cast.executive
    )
    content = digest_content(DigestFilters(), viewer=cast.executive, start=START, end=END)
    assert content.thread_count == len(world)
    _, html, text = digest_render(subscription=subscription, content=content, covers=["x"])
    for contact in world:
        for part, template in ((html, REFERENCE_HTML), (text, REFERENCE_TEXT)):
            # Each of the reference's pieces (its line, then each message) is in the email.
            for piece in _reference(contact.pk, zone, template).split("|")[:-1]:
                assert piece in part, piece
    # Customer text escaped once in the HTML part, as it is stored in the text part.
    assert "&lt;b&gt;Ann &amp; &quot;Co&quot;&lt;/b&gt;" in html
    assert "Charged &lt;twice&gt; &amp; &quot;more&quot;" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<b>Ann & "Co"</b>' in text and "<script>alert(1)</script>" in text
    for name in ("Erased customer", "C-3", "unknown customer"):
        assert name in html and name in text
    assert "x" * 1499 + "…" in html and "x" * 1500 not in html


def test_the_contact_link_is_the_one_reverse_gives(world):
    url_of = contact_url_maker("https://voc.example")
    for contact_id in (1, 42, 10**12, *(c.pk for c in world)):
        assert url_of(contact_id) == "https://voc.example" + reverse(
            "contacts:contact-detail", args=[contact_id]
        )
