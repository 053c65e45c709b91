"""Shared pieces of the contacts REST API: permissions, errors and input fields."""

import re
from datetime import UTC, date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission

from contacts.access import LOG_CONTACTS
from contacts.authentication import IngestTokenAuthentication
from contacts.ingest.records import MAX_YEAR, MIN_YEAR
from contacts.models import Contact, Customer, Message
from voc.core.api import StrictCharField
from voc.core.capabilities import effective_role
from voc.core.permissions import HasCapability
from voc.people.authentication import ApiTokenAuthentication
from voc.people.roles import Role

# --- permissions and errors ----------------------------------------------------------------


def RoleIn(*roles: str) -> type[BasePermission]:
    """Signed-in, active users with one of these roles."""

    class _RoleIn(BasePermission):
        def has_permission(self, request, view) -> bool:
            return effective_role(request.user) in roles

    _RoleIn.__name__ = f"RoleIn[{', '.join(roles)}]"
    return _RoleIn


# Executives read everything and change nothing; reps and managers change what they see.
CanEditContacts = HasCapability(LOG_CONTACTS)
IsAdminRole = RoleIn(Role.ADMIN)
INGEST_AUTHENTICATION = [
    ApiTokenAuthentication,
    IngestTokenAuthentication,
    SessionAuthentication,
]


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "too_large"


# --- fields -------------------------------------------------------------------------------

ANY_TEXT = r"^[^\x00]+$"  # "" is allowed separately: DRF skips validators for blank text
SOME_TEXT = r"^[^\x00]*[^\x00\s][^\x00]*$"
# RFC 3339 with seconds and an offset, years 1900-2199: what a contact's time can be. The
# date itself (no 30 February) is checked when parsed.
WHEN = (
    r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


class TextField(StrictCharField):
    """Text as sent (not trimmed, so the documented limits are the enforced ones), without
    NUL characters or unpaired surrogates (neither can be stored)."""

    def __init__(self, *, nonblank: bool = False, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", not nonblank)
        pattern = SOME_TEXT if nonblank else ANY_TEXT
        message = "Write something here." if nonblank else "Remove the NUL characters."
        validators = [*kwargs.pop("validators", []), _regex(pattern, message)]
        super().__init__(validators=validators, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise serializers.ValidationError("Remove the invalid characters.") from None
        return value


@extend_schema_field({"type": "string", "format": "phone"})
class PhoneField(serializers.Field):
    """A phone number as sent; whether it can be dialled is decided when it is normalised.

    Documented as the `phone` format alone: what a phone number is can't be put in a pattern
    or a length, and neither may override a generator for the format. Blank means none."""

    MAX_LENGTH = 40
    default_error_messages = {
        "invalid": "Give the phone number as text.",
        "max_length": f"Use at most {MAX_LENGTH} characters.",
        "unreadable": "Remove the invalid characters.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if len(data) > self.MAX_LENGTH:
            self.fail("max_length")
        if "\x00" in data:
            self.fail("unreadable")
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("unreadable")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "string", "format": "email"})
class EmailInputField(serializers.Field):
    """An email address, at most 254 characters. Documented as the `email` format alone (a
    length would override the format's generator, and DRF's blank-or-email schema doesn't
    say more); send nothing rather than a blank."""

    default_error_messages = {"invalid": "Enter a valid email address (at most 254 characters)."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 254:
            self.fail("invalid")
        try:
            validate_email(data)
            data.encode("utf-8")
        except (DjangoValidationError, UnicodeEncodeError):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


def _named_choices(choices, component: str):
    """A ChoiceField class whose choices are one named schema component, so the same word
    ("direction") can name different choice sets without the schema renaming them."""

    @extend_schema_field(
        {"type": "string", "enum": [value for value, _ in choices]}, component_name=component
    )
    class NamedChoiceField(serializers.ChoiceField):
        def __init__(self, **kwargs):
            super().__init__(choices=choices, **kwargs)

    NamedChoiceField.__name__ = f"{component}Field"
    return NamedChoiceField


ContactDirectionField = _named_choices(Contact.Direction.choices, "ContactDirection")
MessageDirectionField = _named_choices(Message.Direction.choices, "MessageDirection")
SegmentField = _named_choices(Customer.Segment.choices, "CustomerSegment")


def _regex(pattern: str, message: str):
    from django.core.validators import RegexValidator

    return RegexValidator(pattern, message=message)


class StrictIntegerField(serializers.IntegerField):
    """Whole numbers sent as JSON numbers only (not "5", 5.0 or true)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false only (not "yes", 1 or "true")."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input="")
        return data


@extend_schema_field(
    {"type": "string", "format": "date-time", "pattern": WHEN, "example": "2026-11-23T14:05:00Z"}
)
class WhenField(serializers.Field):
    """An RFC 3339 date and time with seconds and an offset, 1900-2199."""

    default_error_messages = {
        "invalid": "Give a date and time like 2026-11-23T14:05:00Z (with seconds and an offset, "
        f"between {MIN_YEAR} and {MAX_YEAR})."
    }

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(WHEN, data):
            self.fail("invalid")
        try:
            parsed = parse_datetime(data)
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        # Stored and compared in UTC: PostgreSQL refuses offsets beyond ±15:59 that the
        # pattern (and Python) accept, such as +23:59.
        return parsed.astimezone(UTC)

    def to_representation(self, value):
        return serializers.DateTimeField().to_representation(value)


DAY = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "date-time", "pattern": WHEN},
            {"type": "string", "format": "date", "pattern": DAY, "example": "2026-11-23"},
        ]
    }
)
class WhenOrDayField(WhenField):
    """A WhenField that also takes a day without a time (2026-11-23), for a source that knows
    only the day: the contact keeps that calendar day in every reporting time zone."""

    default_error_messages = {
        "invalid": "Give a date and time like 2026-11-23T14:05:00Z (with seconds and an offset) "
        f"or a day like 2026-11-23, between {MIN_YEAR} and {MAX_YEAR}."
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and re.fullmatch(DAY, data):
            try:
                date.fromisoformat(data)
            except ValueError:
                self.fail("invalid")
            return data  # parse_row stores a day as such (contacts.ingest.records.parse_occurred)
        return super().to_internal_value(data)


def id_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=2**63 - 1, **kwargs)
