"""The one entry point for redaction before storage: the built-in rules plus the admin's extra
patterns (``RedactionPattern`` rows), read once per batch or request.

    redactor = redaction_rules.redactor()   # once per batch / request / task
    contact.subject = redactor.text(subject)
    texts = redactor.messages([m.text for m in messages])   # one contact's messages, in order
    contact.external_id = redactor.identifier(external_id)

Every path that stores customer text uses it (ingestion, the pages, the API, the admin,
inbound email, and the apps built on contacts), so none of them can skip the admin's patterns.
The rules themselves live in :mod:`contacts.redaction` (pure Python); docs/redaction.md says
what they redact.
"""

import logging
from collections.abc import Sequence

from django.conf import settings

from contacts.models import RedactionPattern
from contacts.redaction import ExtraPattern, Redactor, compile_extra_pattern

logger = logging.getLogger(__name__)


def extra_patterns() -> tuple[ExtraPattern, ...]:
    """(name, compiled pattern) of every enabled pattern; an invalid one (saved before the
    checks, or by hand) is skipped with a warning rather than stopping every write."""
    patterns = []
    for pattern in RedactionPattern.objects.filter(enabled=True):
        try:
            patterns.append((pattern.name, compile_extra_pattern(pattern.regex)))
        except ValueError:
            logger.warning("redaction pattern %s is invalid and was skipped", pattern.name)
    return tuple(patterns)


def identifier_key() -> bytes:
    """The key of identifier stand-ins: the one inbound email has always used for Message-IDs
    (so the ids it stored still match)."""
    return settings.SECRET_KEY.encode()


def redactor(*, patterns: Sequence[ExtraPattern] | None = None) -> Redactor:
    """The redactor for one batch or request. ``patterns``: already-loaded extra patterns (for
    callers that have them, such as ingest's ParseOptions); read from the database when None."""
    return Redactor(
        extra_patterns=extra_patterns() if patterns is None else tuple(patterns),
        key=identifier_key(),
    )
