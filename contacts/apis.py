"""The contacts REST API: customers, contacts, messages, reasons, and bulk ingest.

One API class per operation (HackSoft style): input and output serializers with a service or
selector call between them. Reads apply the caller's row scope through contacts.selectors;
writes go through contacts.api_services (or the ingest service itself). Customer text is
returned as JSON, never HTML, and was redacted before it was stored.
"""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils.dateparse import parse_datetime
from django_filters.fields import IsoDateTimeField
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import api_services, selectors
from contacts.access import LOG_CONTACTS
from contacts.authentication import (
    HasIngestToken,
    IngestTokenAuthentication,
    IngestTokenRateThrottle,
    ingest_token_of,
)
from contacts.ingest.records import MAX_MESSAGES, MAX_TAGS, MAX_TEXT, MAX_YEAR, MIN_YEAR
from contacts.ingest.service import MAX_BATCH, RejectedRow, contacts_ingest, parse_options
from contacts.ingest.tokens import API_SOURCE
from contacts.models import Channel, Contact, ContactReason, Customer, Message
from voc.core.api import (
    ErrorSerializer,
    StrictCharField,
    StrictFilterSet,
    StrictLimitOffsetPagination,
    ValidationErrorSerializer,
    error_responses,
)
from voc.people.access import effective_role
from voc.people.authentication import ApiTokenAuthentication
from voc.people.permissions import HasCapability
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


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request clashes with what is stored."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "too_large"


def _call(service, **kwargs):
    """Run a write service; a Conflict (duplicate, unknown reference) becomes a 409."""
    try:
        return service(**kwargs)
    except api_services.Conflict as error:
        raise ConflictError(error.message_dict) from None


def _validated(serializer_class, request, **kwargs) -> dict:
    """The serializer's validated data, or a 400 with messages by field. Nested errors are
    flattened to paths ("messages[0].text", "tags[3]") so every value is a list of messages,
    as the error schema says."""
    serializer = serializer_class(data=request.data, **kwargs)
    if not serializer.is_valid():
        raise exceptions.ValidationError(_flatten(serializer.errors))
    return serializer.validated_data


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            if prefix and str(key).isdigit():
                name = f"{prefix}[{key}]"
            elif prefix:
                name = f"{prefix}.{key}"
            else:
                name = str(key)
            flat.update(_flatten(value, name))
    elif isinstance(errors, list) and any(isinstance(item, dict | list) for item in errors):
        for position, item in enumerate(errors):
            if item:
                flat.update(_flatten(item, f"{prefix}[{position}]"))
    else:
        flat[prefix or "detail"] = [str(message) for message in errors]
    return flat


def _errors(*codes: int, conflict: bool = False) -> dict:
    responses = error_responses(*codes)
    if conflict:
        responses[409] = OpenApiResponse(
            response=ValidationErrorSerializer,
            description="Well formed, but clashes with what is stored (a duplicate, or a "
            "reason, team, user or department that doesn't exist); messages by field.",
        )
    return responses


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
        return parsed

    def to_representation(self, value):
        return serializers.DateTimeField().to_representation(value)


def id_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=2**63 - 1, **kwargs)


# --- filters ------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """Rows whose foreign key holds this id. An unknown or unseen id matches nothing rather
    than failing, so ids outside the caller's scope can't be probed for existence."""

    field_class = forms.IntegerField


class _UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, converted to UTC: PostgreSQL refuses offsets beyond ±15:59, and a
    time past the ends of the calendar after conversion is the end it passed."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            earliest = datetime.min.replace(tzinfo=UTC)
            return earliest if parsed.year < 5000 else datetime.max.replace(tzinfo=UTC)


class TimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField


@extend_schema_field({"type": "string", "minLength": 1, "pattern": SOME_TEXT})
class TextFilter(django_filters.CharFilter):
    """Exact text; blank or NUL characters are a 400."""


class _BooleanFormField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in {"true", "1"}:
            return True
        if text in {"false", "0"}:
            return False
        raise forms.ValidationError("Give true or false (or 1 or 0).")


class BooleanFilter(django_filters.BooleanFilter):
    """true/false/1/0; anything else is a 400, not silently no filter."""

    field_class = _BooleanFormField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class CustomerFilter(StrictFilterSet):
    segment = django_filters.ChoiceFilter(choices=Customer.Segment.choices)
    external_ref = TextFilter(field_name="external_ref")
    email = TextFilter(field_name="email", lookup_expr="iexact", help_text="In any case.")


class ContactFilter(StrictFilterSet):
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    direction = django_filters.ChoiceFilter(choices=Contact.Direction.choices)
    source = TextFilter(field_name="source")
    reason = IdFilter(method="filter_reason", help_text="A reason, or a parent and its reasons.")
    team = IdFilter(field_name="team_id")
    customer = IdFilter(field_name="customer_id")
    occurred_after = TimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="At or after this time."
    )
    occurred_before = TimeFilter(
        field_name="occurred_at", lookup_expr="lt", help_text="Before this time."
    )

    def filter_reason(self, queryset, name, value):
        return queryset.filter(Q(reason_id=value) | Q(reason__parent_id=value))


class MessageFilter(StrictFilterSet):
    direction = django_filters.ChoiceFilter(choices=Message.Direction.choices)


class ReasonFilter(StrictFilterSet):
    department = IdFilter(field_name="department_id")
    parent = IdFilter(field_name="parent_id")
    avoidable = BooleanFilter(field_name="avoidable")
    include_retired = BooleanFilter(
        method="filter_include_retired",
        help_text="Also list retired and merged reasons (by default only active ones).",
    )

    def filter_include_retired(self, queryset, name, value):
        return queryset  # applied in filter_queryset, where "not given" is seen too

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_retired"):
            queryset = queryset.filter(retired_at__isnull=True, merged_into__isnull=True)
        return queryset


# --- output serializers -------------------------------------------------------------------


class CustomerOutputSerializer(serializers.ModelSerializer):
    segment = SegmentField()

    class Meta:
        model = Customer
        fields = ["id", "external_ref", "name", "email", "phone", "segment", "created_at",
                  "updated_at"]  # fmt: skip
        ref_name = "Customer"


class ReasonOutputSerializer(serializers.ModelSerializer):
    path = serializers.CharField(read_only=True, help_text="“Parent › Reason”")
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ContactReason
        fields = ["id", "name", "path", "parent", "department", "avoidable", "active",
                  "retired_at", "merged_into"]  # fmt: skip
        ref_name = "Reason"


class MessageOutputSerializer(serializers.ModelSerializer):
    direction = MessageDirectionField()

    class Meta:
        model = Message
        fields = ["id", "external_id", "position", "direction", "author", "sent_at", "text"]
        ref_name = "Message"


class ContactOutputSerializer(serializers.ModelSerializer):
    direction = ContactDirectionField()
    reason_path = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Contact
        fields = [
            "id", "source", "external_id", "channel", "direction", "occurred_at", "customer",
            "rep", "team", "reason", "reason_path", "tags", "subject", "notes", "handle_seconds",
            "outcome", "first_contact_resolution", "road", "sentiment", "repeat_of",
            "created_at", "updated_at",
        ]  # fmt: skip
        ref_name = "Contact"

    def get_reason_path(self, contact) -> str | None:
        return contact.reason.path if contact.reason_id else None


class ContactDetailOutputSerializer(ContactOutputSerializer):
    customer_detail = CustomerOutputSerializer(source="customer", read_only=True, allow_null=True)
    messages = MessageOutputSerializer(many=True, read_only=True)

    class Meta(ContactOutputSerializer.Meta):
        fields = [*ContactOutputSerializer.Meta.fields, "customer_detail", "messages"]
        ref_name = "ContactDetail"


def _contact_detail(contact_id: int) -> Contact:
    """One contact with everything its detail shows, in three queries."""
    return (
        Contact.objects.select_related("customer", "reason__parent")
        .prefetch_related(Prefetch("messages", queryset=Message.objects.order_by("position", "id")))
        .get(id=contact_id)
    )


# --- customers ----------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(responses={200: CustomerOutputSerializer, **_errors(400)}))
class CustomerListApi(ListAPIView):
    """Customers the caller may see: those with a contact in the caller's scope (everyone for
    executives and admins). Merged-away duplicates are left out."""

    serializer_class = CustomerOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = CustomerFilter

    def get_queryset(self):
        return selectors.customer_list_visible(viewer=self.request.user).order_by("id")


class CustomerDetailApi(APIView):
    @extend_schema(
        responses={200: CustomerOutputSerializer, **_errors(404)},
        summary="One customer the caller may see",
    )
    def get(self, request, customer_id: int):
        customer = selectors.customer_get_visible(viewer=request.user, customer_id=customer_id)
        if customer is None:
            raise Http404
        return Response(CustomerOutputSerializer(customer).data)


class CustomerInputSerializer(serializers.Serializer):
    external_ref = TextField(max_length=100, help_text="The id in the CRM; unique.")
    name = TextField(max_length=200)
    email = EmailInputField(
        required=False,
        allow_null=True,
        help_text="Unique, compared case-insensitively; null removes it.",
    )
    phone = PhoneField(
        required=False,
        help_text="A number that can be dialled, in any format (national ones in the platform's "
        "region), at most 40 characters; stored as E.164 (+15551234567). One that can't be "
        "read is a 400.",
    )
    segment = SegmentField(required=False)

    class Meta:
        ref_name = "CustomerInput"


class CustomerCreateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [CanEditContacts]

    @extend_schema(
        request=CustomerInputSerializer,
        responses={201: CustomerOutputSerializer, **_errors(400, conflict=True)},
        summary="Create a customer",
        description="Reps, managers and admins. Text is redacted before it is stored; the "
        "phone number is stored as E.164. A customer whose external ref or email (in any "
        "case) is already taken is refused with 409.",
    )
    def post(self, request):
        data = _validated(CustomerInputSerializer, request)
        customer = _call(api_services.customer_create, **data)
        return Response(CustomerOutputSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerUpdateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [CanEditContacts]

    @extend_schema(
        request=CustomerInputSerializer,
        responses={
            200: CustomerOutputSerializer,
            **_errors(400, 404, conflict=True),
        },
        summary="Change a customer",
        description="Only the fields sent change. Reps and managers may change customers "
        "they can see; admins any.",
    )
    def post(self, request, customer_id: int):
        customer = selectors.customer_get_visible(viewer=request.user, customer_id=customer_id)
        if customer is None:
            raise Http404
        data = _validated(CustomerInputSerializer, request, partial=True)
        customer = _call(api_services.customer_update, customer=customer, changes=data)
        return Response(CustomerOutputSerializer(customer).data)


# --- contacts -----------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(responses={200: ContactOutputSerializer, **_errors(400)}))
class ContactListApi(ListAPIView):
    """Contacts the caller may see, newest first: reps their team's, managers their
    department's and teams', executives and admins all."""

    serializer_class = ContactOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = ContactFilter

    def get_queryset(self):
        return (
            selectors.contact_list_visible(viewer=self.request.user)
            .select_related("reason__parent")
            .order_by("-occurred_at", "-id")
        )


class ContactDetailApi(APIView):
    @extend_schema(
        responses={200: ContactDetailOutputSerializer, **_errors(404)},
        summary="One contact with its customer and messages",
    )
    def get(self, request, contact_id: int):
        if selectors.contact_get_visible(viewer=request.user, contact_id=contact_id) is None:
            raise Http404
        return Response(ContactDetailOutputSerializer(_contact_detail(contact_id)).data)


class MessageInputSerializer(serializers.Serializer):
    external_id = TextField(
        max_length=200, help_text="Unique within the contact; defaults to the position."
    )
    direction = MessageDirectionField(required=False)
    author = TextField(max_length=200)
    sent_at = WhenField(required=False)
    text = TextField(max_length=MAX_TEXT, nonblank=True, required=True)

    class Meta:
        ref_name = "MessageInput"


class ContactRowSerializer(serializers.Serializer):
    """One contact in VoC's ingest fields (the same as a row of the bulk endpoint, which also
    takes `source` from admins). Names of the rep, team and reason are matched
    case-insensitively."""

    external_id = TextField(
        max_length=200, nonblank=True, required=True,
        help_text="The contact's id in the source system; sending it again updates it.",
    )  # fmt: skip
    channel = serializers.ChoiceField(choices=Channel.choices)
    direction = ContactDirectionField(required=False)
    occurred_at = WhenField(required=False, help_text="Defaults to now.")
    customer_ref = TextField(max_length=100, help_text="Customers are matched by ref, …")
    customer_email = EmailInputField(
        required=False, help_text="… then email (case-insensitively), …"
    )
    customer_phone = PhoneField(
        required=False,
        help_text="… then phone: a number that can be dialled, at most 40 characters; stored "
        "as E.164.",
    )
    customer_name = TextField(max_length=200)
    customer_segment = SegmentField(required=False)
    rep = TextField(max_length=150, help_text="Username or email; a rep logging: themselves.")
    team = TextField(max_length=100, help_text="Team name; defaults to the rep's team.")
    reason = TextField(max_length=241, help_text="“Reason” or “Parent › Reason”.")
    tags = serializers.ListField(
        child=TextField(max_length=50), max_length=MAX_TAGS, required=False
    )
    subject = TextField(max_length=300)
    notes = TextField(max_length=MAX_TEXT)
    handle_seconds = StrictIntegerField(min_value=0, max_value=7 * 24 * 3600, required=False)
    outcome = serializers.ChoiceField(choices=Contact.Outcome.choices, required=False)
    first_contact_resolution = StrictBooleanField(required=False)
    road = StrictIntegerField(min_value=1, max_value=4, required=False)
    text = TextField(max_length=MAX_TEXT, help_text="One message; or give `messages`.")
    messages = MessageInputSerializer(many=True, required=False, max_length=MAX_MESSAGES)

    class Meta:
        ref_name = "ContactRow"

    def validate(self, attrs):
        if "text" in attrs and "messages" in attrs:
            raise serializers.ValidationError({"text": "Give either text or messages, not both."})
        return attrs


class ContactRowSchema(OpenApiSerializerExtension):
    target_class = "contacts.apis.ContactRowSerializer"

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["not"] = {"required": ["text", "messages"]}  # one or the other
        return schema


class ContactCreateApi(APIView):
    parser_classes = [JSONParser]
    authentication_classes = INGEST_AUTHENTICATION
    permission_classes = [HasIngestToken | CanEditContacts]
    throttle_classes = [IngestTokenRateThrottle]

    @extend_schema(
        request=ContactRowSerializer,
        responses={
            201: OpenApiResponse(ContactDetailOutputSerializer, description="Created."),
            200: OpenApiResponse(
                ContactDetailOutputSerializer,
                description="A contact with this external id existed: updated, or unchanged "
                "if nothing differed.",
            ),
            **_errors(400, 429, conflict=True),
        },
        summary="Log one contact",
        description="Reps, managers and admins, or a system with an ingest token. Stored under "
        f"the source “{API_SOURCE}”, or the ingest token's source; sending the same "
        "external id again updates the contact. Reps log for their own team (the default) and "
        "managers for the teams in their scope. Text is redacted before it is stored.",
    )
    def post(self, request):
        data = _validated(ContactRowSerializer, request)
        token = ingest_token_of(request)
        written = _call(
            api_services.contact_create,
            row=data,
            source=token.source if token else API_SOURCE,
            by=None if token else request.user,
        )
        return Response(
            ContactDetailOutputSerializer(_contact_detail(written.contact.id)).data,
            status=status.HTTP_201_CREATED if written.outcome == "created" else status.HTTP_200_OK,
        )


class ContactUpdateInputSerializer(serializers.Serializer):
    reason = id_field(required=False, allow_null=True, help_text="An active reason's id.")
    tags = serializers.ListField(
        child=TextField(max_length=50), max_length=MAX_TAGS, required=False
    )
    road = StrictIntegerField(min_value=1, max_value=4, required=False, allow_null=True)
    outcome = serializers.ChoiceField(
        choices=Contact.Outcome.choices, required=False, allow_blank=True
    )
    notes = TextField(max_length=MAX_TEXT)
    handle_seconds = StrictIntegerField(
        min_value=0, max_value=7 * 24 * 3600, required=False, allow_null=True
    )
    first_contact_resolution = StrictBooleanField(required=False, allow_null=True)

    class Meta:
        ref_name = "ContactUpdate"


def _contact_for_write(request, contact_id: int) -> Contact:
    """The contact, if the caller may change it (their scope); a 404 otherwise."""
    contact = selectors.contact_get_visible(viewer=request.user, contact_id=contact_id)
    if contact is None:
        raise Http404
    return contact


class ContactUpdateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [CanEditContacts]

    @extend_schema(
        request=ContactUpdateInputSerializer,
        responses={
            200: ContactDetailOutputSerializer,
            **_errors(400, 404, conflict=True),
        },
        summary="Change a contact",
        description="Only the fields sent change; the dashboards' counts follow. Reps change "
        "their team's contacts, managers those in their scope, admins any; executives read "
        "only. Notes are redacted before they are stored.",
    )
    def post(self, request, contact_id: int):
        contact = _contact_for_write(request, contact_id)
        data = _validated(ContactUpdateInputSerializer, request)
        _call(api_services.contact_update, contact=contact, changes=data)
        return Response(ContactDetailOutputSerializer(_contact_detail(contact.id)).data)


# --- messages -----------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(responses={200: MessageOutputSerializer, **_errors(400, 404)})
)
class MessageListApi(ListAPIView):
    """A contact's messages in order; the contact must be one the caller may see."""

    serializer_class = MessageOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = MessageFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no contact
            return Message.objects.none()
        contact = selectors.contact_get_visible(
            viewer=self.request.user, contact_id=self.kwargs["contact_id"]
        )
        if contact is None:
            raise Http404
        return Message.objects.filter(contact=contact).order_by("position", "id")


class MessageCreateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [CanEditContacts]

    @extend_schema(
        request=MessageInputSerializer,
        responses={
            201: MessageOutputSerializer,
            **_errors(400, 404, conflict=True),
        },
        summary="Add a message to a contact",
        description="Appended after the last message; the text is redacted before it is "
        "stored and the contact's sentiment is scored again.",
    )
    def post(self, request, contact_id: int):
        contact = _contact_for_write(request, contact_id)
        data = _validated(MessageInputSerializer, request)
        message = _call(api_services.message_append, contact=contact, **data)
        return Response(MessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)


# --- reasons ------------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(responses={200: ReasonOutputSerializer, **_errors(400)}))
class ReasonListApi(ListAPIView):
    """The contact-reason taxonomy: active reasons unless include_retired is given."""

    serializer_class = ReasonOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = ReasonFilter

    def get_queryset(self):
        return ContactReason.objects.select_related("parent").order_by("parent__name", "name", "id")


class ReasonDetailApi(APIView):
    @extend_schema(
        responses={200: ReasonOutputSerializer, **_errors(404)},
        summary="One reason (retired and merged ones too)",
    )
    def get(self, request, reason_id: int):
        reason = ContactReason.objects.select_related("parent").filter(id=reason_id).first()
        if reason is None:
            raise Http404
        return Response(ReasonOutputSerializer(reason).data)


REASON_NAME = r"^[^\x00›>/]*[^\x00›>/\s][^\x00›>/]*$"


class ReasonInputSerializer(serializers.Serializer):
    name = StrictCharField(
        max_length=120,
        trim_whitespace=False,
        validators=[_regex(REASON_NAME, "Give a name without ›, > or /.")],
        help_text="Unique among its siblings (in any case); no ›, > or /.",
    )
    parent = id_field(
        required=False, allow_null=True, help_text="A top-level reason; empty for top level."
    )
    department = id_field(
        required=False, allow_null=True, help_text="The department that owns these contacts."
    )
    avoidable = StrictBooleanField(required=False)

    class Meta:
        ref_name = "ReasonInput"


class ReasonCreateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [IsAdminRole]

    @extend_schema(
        request=ReasonInputSerializer,
        responses={201: ReasonOutputSerializer, **_errors(400, conflict=True)},
        summary="Add a reason to the taxonomy (admins)",
    )
    def post(self, request):
        data = _validated(ReasonInputSerializer, request)
        reason = _call(api_services.reason_create, **data)
        return Response(ReasonOutputSerializer(reason).data, status=status.HTTP_201_CREATED)


class ReasonUpdateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [IsAdminRole]

    @extend_schema(
        request=ReasonInputSerializer(partial=True),
        responses={200: ReasonOutputSerializer, **_errors(400, 404, conflict=True)},
        summary="Change a reason (admins)",
        description="Only the fields sent change; contacts keep their reason, so history "
        "follows. Retiring and merging are done in the admin.",
    )
    def post(self, request, reason_id: int):
        reason = ContactReason.objects.filter(id=reason_id).first()
        if reason is None:
            raise Http404
        data = _validated(ReasonInputSerializer, request, partial=True)
        reason = _call(api_services.reason_update, reason=reason, changes=data)
        return Response(ReasonOutputSerializer(reason).data)


# --- bulk ingest --------------------------------------------------------------------------

NDJSON = "application/x-ndjson"
NDJSON_TYPES = {NDJSON, "application/jsonl", "application/jsonlines"}
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def bulk_max_bytes() -> int:
    return getattr(settings, "VOC_BULK_MAX_BYTES", DEFAULT_MAX_BYTES)


class NDJSONParser(BaseParser):
    """Declares NDJSON for the schema and content negotiation; the bulk view reads the body
    line by line itself."""

    media_type = NDJSON

    def parse(self, stream, media_type=None, parser_context=None):  # pragma: no cover
        raise exceptions.ParseError("Read NDJSON bodies line by line.")


class _Unreadable:
    """Stands in for a row that could not be read, so later rows keep their index. Ingestion
    rejects it as "not an object"; the view reports the real reason."""

    __slots__ = ("field", "reason")

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason


class _TooManyRows(Exception):
    pass


def _unstorable(row) -> tuple[str, str] | None:
    """(field, reason) for a time outside 1900-2199: one near either end of the calendar
    can't be counted in the rollups, and none of them is a real contact's."""
    if not isinstance(row, dict):
        return None
    for name in ("occurred_at",):
        problem = _time_problem(row.get(name))
        if problem:
            return name, problem
    messages = row.get("messages")
    if isinstance(messages, list):
        for position, message in enumerate(messages):
            if isinstance(message, dict):
                problem = _time_problem(message.get("sent_at"))
                if problem:
                    return f"messages[{position}].sent_at", problem
    return None


def _time_problem(value) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None  # ingestion reports it
    if parsed is not None and not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return f"must be between {MIN_YEAR} and {MAX_YEAR}"
    return None


def _bad_text(value, where: str = "row") -> str | None:
    """The field holding a string that isn't valid Unicode (an unpaired surrogate), if any."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _bad_text(key, where) or _bad_text(
                item, key if where == "row" else f"{where}.{key}"
            )
            if found:
                return found
    elif isinstance(value, list):
        for position, item in enumerate(value):
            found = _bad_text(item, f"{where}[{position}]")
            if found:
                return found
    return None


def _checked(row, *, maybe_surrogates: bool, extra_patterns):
    """The row as ingestion should get it, or an _Unreadable for what can't be stored at all:
    text with unpaired surrogates (which only \\ud800-style escapes produce), a time out of
    range. Checks ingestion makes itself are left to it."""
    if maybe_surrogates:
        where = _bad_text(row)
        if where:
            return _Unreadable(where, "contains an unpaired \\ud800-\\udfff escape, not text")
    problem = _unstorable(row)
    if problem:
        return _Unreadable(*problem)
    return api_services.row_redact_unparsed(row, extra_patterns)


def _read_body(stream, limit: int) -> bytes:
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit // (1024 * 1024)} MB.")
    return body


def _json_rows(stream, limit: int, extra_patterns) -> list:
    body = _read_body(stream, limit)
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        rows = json.loads(body)
    except (ValueError, RecursionError):
        raise exceptions.ParseError(
            "The body is not valid JSON; send an array of contact objects."
        ) from None
    if not isinstance(rows, list):
        raise exceptions.ParseError("Send a JSON array of contact objects.")
    if len(rows) > MAX_BATCH:
        raise PayloadTooLarge(f"Send at most {MAX_BATCH:,} rows a request ({len(rows):,} sent).")
    if not rows:
        raise exceptions.ParseError("The array is empty; send at least one row.")
    maybe_surrogates = _SURROGATE_ESCAPE.search(body) is not None
    return [
        _checked(row, maybe_surrogates=maybe_surrogates, extra_patterns=extra_patterns)
        for row in rows
    ]


def _ndjson_rows(stream, limit: int, lines: list[int], extra_patterns) -> Iterator:
    """Rows of an NDJSON body as they are read; blank lines are skipped. Fills ``lines`` with
    the line number of each row. A line that isn't JSON becomes an _Unreadable row."""
    read = 0
    for number, raw in enumerate(stream, start=1):
        read += len(raw)
        if read > limit:
            raise PayloadTooLarge(f"The body is larger than {limit // (1024 * 1024)} MB.")
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        if len(lines) >= MAX_BATCH:
            raise _TooManyRows
        lines.append(number)
        try:
            row = json.loads(raw)
        except UnicodeDecodeError:
            yield _Unreadable("row", "is not UTF-8 text")
            continue
        except (ValueError, RecursionError):
            yield _Unreadable("row", "is not valid JSON")
            continue
        maybe_surrogates = _SURROGATE_ESCAPE.search(raw) is not None
        yield _checked(row, maybe_surrogates=maybe_surrogates, extra_patterns=extra_patterns)


class BulkResultSerializer(serializers.Serializer):
    class RowErrorSerializer(serializers.Serializer):
        index = serializers.IntegerField(help_text="The row's position, from 0.")
        line = serializers.IntegerField(
            required=False, help_text="NDJSON only: the row's line number, from 1."
        )
        field = serializers.CharField()
        reason = serializers.CharField()

        class Meta:
            ref_name = "BulkRowError"

    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)

    class Meta:
        ref_name = "BulkResult"


class BulkRowSerializer(serializers.Serializer):
    """Documents one bulk row; rows are checked one by one by ingestion, not here."""

    class Meta:
        ref_name = "BulkRow"


class BulkRowSchema(OpenApiSerializerExtension):
    target_class = "contacts.apis.BulkRowSerializer"

    def map_serializer(self, auto_schema, direction):
        # Any JSON value is accepted as a row: one that isn't a valid contact is reported in
        # `errors` with its index, while the other rows are stored.
        return {
            "description": "A contact in the fields of ContactRow, plus `source` when an admin "
            "sends it (ignored with an ingest token, whose source is used). Rows are checked "
            "one by one: a row that isn't a valid contact is reported in `errors`."
        }


class BulkSchema(AutoSchema):
    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
            content = body["content"]["application/json"]
            content["schema"]["minItems"] = 1
            content["examples"] = {
                "TwoRows": {
                    "summary": "Two rows, the second not a contact",
                    "value": BULK_EXAMPLE_ROWS,
                }
            }
        return body


BULK_EXAMPLE_ROWS = [
    {
        "external_id": "call-1001",
        "channel": "phone",
        "occurred_at": "2026-11-23T14:05:00Z",
        "customer_ref": "CRM-42",
        "reason": "Billing › Double charge",
        "text": "I was charged twice this month.",
    },
    {"external_id": "call-1002", "channel": "fax"},
]


class ContactBulkApi(APIView):
    authentication_classes = INGEST_AUTHENTICATION
    permission_classes = [HasIngestToken | IsAdminRole]
    throttle_classes = [IngestTokenRateThrottle]
    parser_classes = [JSONParser, NDJSONParser]
    schema = BulkSchema()

    @extend_schema(
        request={
            "application/json": BulkRowSerializer(many=True),
            NDJSON: OpenApiTypes.STR,
        },
        responses={
            200: BulkResultSerializer,
            **_errors(400, 429),
            413: OpenApiResponse(
                ErrorSerializer, description=f"More than {MAX_BATCH:,} rows, or too large a body."
            ),
            415: OpenApiResponse(ErrorSerializer, description="Neither JSON nor NDJSON."),
        },
        examples=[
            OpenApiExample(
                "One stored, one rejected",
                value={
                    "created": 1,
                    "updated": 0,
                    "unchanged": 0,
                    "rejected": 1,
                    "errors": [
                        {"index": 1, "field": "channel", "reason": "must be one of phone, …"}
                    ],
                },
                response_only=True,
            ),
        ],
        summary="Send up to 10,000 contacts",
        description=(
            "A system with an ingest token (`Authorization: Ingest <key>`; rows are stored "
            "under the token's source) or an admin (rows carry `source`). The body is a JSON "
            f"array (`application/json`) or one JSON object a line (`{NDJSON}`; blank lines "
            f"are skipped), with at most {MAX_BATCH:,} rows. Rows are idempotent on (source, "
            "external_id): sending a batch again creates nothing twice and updates what "
            "changed. Each bad row is reported with its index (and line, for NDJSON), field "
            "and reason, never its value; the good rows are stored, all in one transaction."
        ),
    )
    def post(self, request):
        token = ingest_token_of(request)
        limit = bulk_max_bytes()
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            raise PayloadTooLarge(f"The body is larger than {limit // (1024 * 1024)} MB.")
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        if media_type not in {"application/json", *NDJSON_TYPES}:
            raise exceptions.UnsupportedMediaType(media_type or "no content type")
        stream = request.stream
        if stream is None:
            raise exceptions.ParseError("The body is empty; send at least one row.")
        options = parse_options(source=token.source) if token else parse_options()
        lines: list[int] = []
        if media_type == "application/json":
            rows = _json_rows(stream, limit, options.extra_patterns)
        else:
            rows = _ndjson_rows(stream, limit, lines, options.extra_patterns)
        unreadable: dict[int, _Unreadable] = {}

        def noting_unreadable():
            for index, row in enumerate(rows):
                if isinstance(row, _Unreadable):
                    unreadable[index] = row
                yield row

        try:
            result = contacts_ingest(rows=noting_unreadable(), options=options)
        except _TooManyRows:
            raise PayloadTooLarge(f"Send at most {MAX_BATCH:,} rows a request.") from None
        total = len(lines) if media_type in NDJSON_TYPES else len(rows)
        if total == 0:
            raise exceptions.ParseError("The body holds no rows; send at least one.")
        errors = [_row_error(rejected, unreadable, lines) for rejected in result.rejected]
        return Response({**result.counts(), "errors": errors})


def _row_error(rejected: RejectedRow, unreadable: dict, lines: list[int]) -> dict:
    error = rejected.as_dict()
    if rejected.index in unreadable:
        error["field"] = unreadable[rejected.index].field
        error["reason"] = unreadable[rejected.index].reason
    if lines:
        error["line"] = lines[rejected.index]
    return error
