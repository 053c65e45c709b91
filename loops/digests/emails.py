"""A digest's threads as its email shows them, worked out once in Python for both parts.

The email shows up to 50 threads and 300 messages and is rendered a thousand times a
morning; each variable, tag and filter of a template costs a lookup, so the strings each
thread needs (the contact's line and link) are made here once, and each thread's messages
(who wrote them and when, in the reader's zone, their text clipped) are printed here, in
the two markups below, with every piece of customer text escaped by ``escape()``; the
templates print the rest and escape what they print.
"""

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from loops.digests.selectors import DigestContent, MessageShown, ThreadShown
from loops.templatetags.digest_email import clip, message_time

MESSAGE_CHARACTERS = 1500  # a message's text is clipped to this many characters


# A message in each part, as the templates printed it from a loop before (the same bytes).
MESSAGE_HTML = (
    '\n    <tr><td style="padding:4px 0 6px 10px">\n'
    '      <div style="font-size:12px;color:#5f6b7a">{meta}</div>\n'
    '      <div style="white-space:pre-wrap;word-break:break-word;overflow-wrap:anywhere;'
    '{colour}">{text}</div>\n'
    "    </td></tr>\n    "
)
OUTGOING_COLOUR = "color:#3c4a5a;"
MESSAGE_TEXT = "\n{said}\n{text}\n"


@dataclass(frozen=True, slots=True)
class EmailThread:
    heading: str  # "Email · Ann Smith · Charged twice"
    url: str  # the contact, absolute
    trimmed: int  # earlier messages of the period not shown
    messages_html: SafeString  # its messages, escaped
    messages_text: str


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


def _messages(messages: list[MessageShown], zone: ZoneInfo) -> tuple[SafeString, str]:
    html, text = [], []
    for message in messages:
        outgoing = message.outgoing
        who = "We replied" if outgoing else "Customer"
        if message.at is None:
            meta, said = who, f"{who}:"
        else:
            when = message_time(timezone.localtime(message.at, zone))
            meta, said = f"{who} · {when}", f"{who} ({when}):"
        clipped = clip(message.text, MESSAGE_CHARACTERS)
        colour = OUTGOING_COLOUR if outgoing else ""
        html.append(MESSAGE_HTML.format(meta=escape(meta), colour=colour, text=escape(clipped)))
        text.append(MESSAGE_TEXT.format(said=said, text=clipped))
    return mark_safe("".join(html)), "".join(text)  # noqa: S308 - every piece escaped above


def _thread(thread: ThreadShown, zone: ZoneInfo, url_of: Callable[[int], str]) -> EmailThread:
    contact = thread.contact
    heading = f"{contact.channel} · {contact.customer or 'unknown customer'}"
    if contact.subject:
        heading += f" · {contact.subject}"
    messages_html, messages_text = _messages(thread.messages, zone)
    return EmailThread(heading, url_of(contact.pk), thread.trimmed, messages_html, messages_text)


def email_topics(content: DigestContent, *, zone: ZoneInfo, base_url: str) -> list[EmailTopic]:
    """The topics with threads shown, in the content's order, ready to print."""
    url_of = contact_url_maker(base_url)
    return [
        EmailTopic(topic.label, [_thread(thread, zone, url_of) for thread in topic.threads])
        for topic in content.topics
        if topic.threads
    ]
