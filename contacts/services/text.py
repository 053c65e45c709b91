"""Customer text on its way into the database: every service cleans what it stores here,
through the one redaction entry point (contacts.redaction_rules: the built-in rules plus the
admin's extra patterns, loaded once per request)."""

from django.core.exceptions import ValidationError

from contacts.redaction_rules import redactor


class TextCleaner:
    """Redacts with the patterns enabled when it was made (one query, however many fields)."""

    def __init__(self) -> None:
        self.redactor = redactor()

    def redact(self, value: str | None) -> str:
        return self.redactor.text(value) if value else ""

    def identifier(self, value: object) -> str:
        """An id that finds a row again (external id, customer reference): kept, or a keyed
        stand-in if it holds something redaction would take, exactly as ingestion stores it."""
        return self.redactor.identifier(str(value or "").strip())

    def clean(self, value: str | None, *, field: str, max_length: int | None = None) -> str:
        """Trimmed and redacted; a ValidationError for ``field`` if the placeholders made it
        longer than its column holds (a placeholder is longer than most card numbers)."""
        cleaned = self.redact(str(value or "").strip())
        if max_length is not None and len(cleaned) > max_length:
            raise ValidationError(
                {field: f"Use at most {max_length} characters (card numbers count as 22)."}
            )
        return cleaned
