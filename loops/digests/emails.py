"""A digest's threads as its email shows them, worked out once in Python for both parts.

The email shows up to 50 threads and 300 messages and is rendered a thousand times a
morning; each variable, tag and filter of a template costs a lookup, so the strings each
message and thread needs (who wrote it and when, in the reader's zone, its text clipped,
the contact's line and link) are made here, once, and the templates only print them. The
templates still escape every one of them: customer text is never marked safe here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from loops.digests.selectors import DigestContent, MessageShown, ThreadShown
from loops.templatetags.digest_email import clip, message_time

MESSAGE_CHARACTERS = 1500  # a message's text is clipped to this many characters


@dataclass(frozen=True, slots=True)
class EmailMessage:
    outgoing: bool
    meta: str  # "We replied · Sat 5 Dec 14:07" (the HTML part)
    said: str  # "We replied (Sat 5 Dec 14:07):" (the text part)
    text: str  # clipped


@dataclass(frozen=True, slots=True)
class EmailThread:
    heading: str  # "Email · Ann Smith · Charged twice"
    url: str  # the contact, absolute
    trimmed: int  # earlier messages of the period not shown
    messages: list[EmailMessage]


@dataclass(frozen=True, slots=True)
class EmailTopic:
    label: str
    threads: list[EmailThread]


def contact_url_maker(base_url: str) -> Callable[[int], str]:
    """The absolute URL of a contact by id, from one reverse() instead of one per thread."""
    marker = 987_654_321_987_654_321  # an id no contact has, to find where the id goes
    path = reverse("contacts:contact-detail", args=[marker])
    before, _, after = path.partition(str(marker))
    return lambda contact_id: f"{base_url}{before}{contact_id}{after}"


def _message(message: MessageShown, zone: ZoneInfo) -> EmailMessage:
    outgoing = message.outgoing
    who = "We replied" if outgoing else "Customer"
    if message.at is None:
        meta, said = who, f"{who}:"
    else:
        when = message_time(timezone.localtime(message.at, zone))
        meta, said = f"{who} · {when}", f"{who} ({when}):"
    return EmailMessage(outgoing, meta, said, clip(message.text, MESSAGE_CHARACTERS))


def _thread(thread: ThreadShown, zone: ZoneInfo, url_of: Callable[[int], str]) -> EmailThread:
    contact = thread.contact
    heading = f"{contact.channel} · {contact.customer or 'unknown customer'}"
    if contact.subject:
        heading += f" · {contact.subject}"
    return EmailThread(
        heading,
        url_of(contact.pk),
        thread.trimmed,
        [_message(message, zone) for message in thread.messages],
    )


def email_topics(content: DigestContent, *, zone: ZoneInfo, base_url: str) -> list[EmailTopic]:
    """The topics with threads shown, in the content's order, ready to print."""
    url_of = contact_url_maker(base_url)
    return [
        EmailTopic(topic.label, [_thread(thread, zone, url_of) for thread in topic.threads])
        for topic in content.topics
        if topic.threads
    ]
