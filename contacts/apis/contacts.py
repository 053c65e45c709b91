"""The contacts operations of the contacts REST API."""

from django.http import Http404
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import selectors
from contacts.apis.common import (
    INGEST_AUTHENTICATION,
    CanEditContacts,
    ContactDirectionField,
    EmailInputField,
    MessageDirectionField,
    PhoneField,
    SegmentField,
    StrictBooleanField,
    StrictIntegerField,
    TextField,
    WhenField,
    WhenOrDayField,
    id_field,
)
from contacts.apis.filters import ContactFilter
from contacts.apis.serializers import (
    ContactDetailOutputSerializer,
    ContactOutputSerializer,
    _contact_detail,
)
from contacts.authentication import HasIngestToken, IngestTokenRateThrottle, ingest_token_of
from contacts.ingest.records import MAX_MESSAGES, MAX_TAGS, MAX_TEXT
from contacts.ingest.tokens import API_SOURCE
from contacts.models import Channel, Contact
from contacts.services.contacts import contact_create, contact_update
from voc.core.api import StrictLimitOffsetPagination, api_errors, validated_data

# --- contacts -----------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(responses={200: ContactOutputSerializer, **api_errors(400)}))
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
        responses={200: ContactDetailOutputSerializer, **api_errors(404)},
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
    occurred_at = WhenOrDayField(
        required=False, help_text="Defaults to now. A day alone (2026-11-23) when the source "
        "knows no time: the contact keeps that day in every reporting time zone.",
    )  # fmt: skip
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
    wait_seconds = StrictIntegerField(
        min_value=0, max_value=7 * 24 * 3600, required=False,
        help_text="How long the customer waited for a person (queue, hold, a reply).",
    )  # fmt: skip
    outcome = serializers.ChoiceField(choices=Contact.Outcome.choices, required=False)
    first_contact_resolution = StrictBooleanField(required=False)
    road = StrictIntegerField(min_value=1, max_value=4, required=False)
    text = TextField(max_length=MAX_TEXT, help_text="One message; or give `messages`.")
    # many=True hands max_length to the ListSerializer; the stubs don't know it.
    messages = MessageInputSerializer(many=True, required=False, max_length=MAX_MESSAGES)  # type: ignore[call-arg]

    class Meta:
        ref_name = "ContactRow"

    def validate(self, attrs):
        if "text" in attrs and "messages" in attrs:
            raise serializers.ValidationError({"text": "Give either text or messages, not both."})
        return attrs


class ContactRowSchema(OpenApiSerializerExtension):
    target_class = "contacts.apis.contacts.ContactRowSerializer"

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
            **api_errors(400, 429, conflict=True),
        },
        summary="Log one contact",
        description="Reps, managers and admins, or a system with an ingest token. Stored under "
        f"the source “{API_SOURCE}”, or the ingest token's source; sending the same "
        "external id again updates the contact. Reps log for their own team (the default) and "
        "managers for the teams in their scope. Text is redacted before it is stored.",
    )
    def post(self, request):
        data = validated_data(ContactRowSerializer, request)
        token = ingest_token_of(request)
        written = contact_create(
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
    wait_seconds = StrictIntegerField(
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
            **api_errors(400, 404, conflict=True),
        },
        summary="Change a contact",
        description="Only the fields sent change; the dashboards' counts follow. Reps change "
        "their team's contacts, managers those in their scope, admins any; executives read "
        "only. Notes are redacted before they are stored.",
    )
    def post(self, request, contact_id: int):
        contact = _contact_for_write(request, contact_id)
        data = validated_data(ContactUpdateInputSerializer, request)
        contact_update(contact=contact, changes=data, by=request.user)
        return Response(ContactDetailOutputSerializer(_contact_detail(contact.id)).data)
