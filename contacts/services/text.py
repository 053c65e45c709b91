"""Customer text on its way into the database: every service cleans what it stores here, with
the built-in redaction rules plus the admin's extra patterns, loaded once per request."""

from django.core.exceptions import ValidationError

from contacts.ingest.service import extra_redaction_patterns
from contacts.redaction import redact_text


class TextCleaner:
    """Redacts with the patterns enabled when it was made (one query, however many fields)."""

    def __init__(self) -> None:
        self.patterns = extra_redaction_patterns()

    def redact(self, value: str | None) -> str:
        return redact_text(value, self.patterns) if value else ""

    def clean(self, value: str | None, *, field: str, max_length: int | None = None) -> str:
        """Trimmed and redacted; a ValidationError for ``field`` if the placeholders made it
        longer than its column holds (a placeholder is longer than most card numbers)."""
        cleaned = self.redact(str(value or "").strip())
        if max_length is not None and len(cleaned) > max_length:
            raise ValidationError(
                {field: f"Use at most {max_length} characters (card numbers count as 22)."}
            )
        return cleaned
