"""The error of one row: what every parser of incoming rows raises (contacts, feedback items,
the file readers), and what the import reports by line."""


class RowError(Exception):
    """A row cannot be imported: the field (or "row") and the reason, never the value, which
    may be a card number."""

    def __init__(self, field: str, reason: str):
        # Both can name a field from the input (an unknown one): keep them storable text.
        field = field.encode("utf-8", "replace").decode("utf-8")[:100]
        reason = reason.encode("utf-8", "replace").decode("utf-8")[:300]
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
