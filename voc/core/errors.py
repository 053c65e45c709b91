"""Errors services raise that every entry point answers the same way."""

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """The request is well formed but clashes with what is stored: a duplicate, a reference to
    something that doesn't exist, a record that can no longer change. The API answers 409 (the
    exception handler in voc.core.api); pages show the messages by field like any refusal."""
