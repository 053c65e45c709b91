"""The customers operations of the contacts REST API."""

from dataclasses import asdict

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import selectors
from contacts.access import VIEW_CONTACTS
from contacts.apis.common import (
    CanEditContacts,
    EmailInputField,
    PhoneField,
    SegmentField,
    TextField,
)
from contacts.apis.filters import CustomerFilter
from contacts.apis.serializers import CustomerOutputSerializer
from contacts.models import Customer
from contacts.services.customers import customer_create, customer_lookup, customer_update
from voc.core.api import StrictLimitOffsetPagination, api_errors, flatten_errors, validated_data
from voc.core.permissions import HasCapability
from voc.people.access import sees_everything

# --- customers ----------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(responses={200: CustomerOutputSerializer, **api_errors(400)}))
class CustomerListApi(ListAPIView):
    """Customers the caller may see: those with a contact in the caller's scope (everyone for
    executives and admins). Merged-away duplicates are left out. A customer outside the
    scope is found only by an exact ref, email or phone, at customers/lookup/."""

    serializer_class = CustomerOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = CustomerFilter

    def get_queryset(self):
        return selectors.customer_list_visible(viewer=self.request.user).order_by("id")


class CustomerDetailApi(APIView):
    @extend_schema(
        responses={200: CustomerOutputSerializer, **api_errors(404)},
        summary="One customer the caller may see",
    )
    def get(self, request, customer_id: int):
        customer = selectors.customer_get_visible(viewer=request.user, customer_id=customer_id)
        if customer is None:
            raise Http404
        return Response(CustomerOutputSerializer(customer).data)


class CustomerLookupInputSerializer(serializers.Serializer):
    q = TextField(
        max_length=254,
        nonblank=True,
        required=True,
        help_text="A customer ref, an email address or a phone number, exactly (any case).",
    )

    class Meta:
        ref_name = "CustomerLookupInput"


class CustomerCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    external_ref = serializers.CharField(help_text="Blank when the customer has none.")
    matched = serializers.ChoiceField(
        choices=["external_ref", "email", "phone"], help_text="What `q` matched."
    )
    in_scope = serializers.BooleanField(
        help_text="True: the caller may read the whole record at customers/{id}/. False: "
        "this card is all they see until they log a contact with the customer."
    )

    class Meta:
        ref_name = "CustomerCard"


class CustomerLookupResultSerializer(serializers.Serializer):
    results = CustomerCardSerializer(many=True)

    class Meta:
        ref_name = "CustomerLookupResult"


class CustomerLookupApi(APIView):
    permission_classes = [HasCapability(VIEW_CONTACTS)]

    @extend_schema(
        parameters=[CustomerLookupInputSerializer],
        responses={200: CustomerLookupResultSerializer, **api_errors(400)},
        summary="Find a customer by an exact ref, email or phone",
        description="The customers whose customer ref, email address (any case) or phone "
        "number is exactly `q`, as cards: name and ref only. Those in the caller's scope come "
        "with `in_scope` true; those outside it are found only this way (lists and partial "
        "searches never show them), and each such lookup is recorded in the customer's "
        "audit trail with the caller and what matched. Logging a contact with the customer "
        "(contacts/create/ with their `customer_ref`) brings them into the caller's scope.",
    )
    def get(self, request):
        serializer = CustomerLookupInputSerializer(data=request.query_params)
        if not serializer.is_valid():
            raise exceptions.ValidationError(flatten_errors(serializer.errors))
        query = serializer.validated_data["q"]
        cards = [
            {**asdict(card), "in_scope": True}
            for card in selectors.customer_cards_in_scope(viewer=request.user, query=query)
        ]
        cards += [
            {**asdict(card), "in_scope": False}
            for card in customer_lookup(query=query, by=request.user, via="api")
        ]
        return Response(CustomerLookupResultSerializer({"results": cards}).data)


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


class CustomerAcceptedSerializer(serializers.ModelSerializer):
    segment = SegmentField()

    class Meta:
        model = Customer
        fields = ["external_ref", "name", "email", "phone", "segment"]
        ref_name = "CustomerAccepted"


class CustomerCreateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [CanEditContacts]

    @extend_schema(
        request=CustomerInputSerializer,
        responses={
            201: CustomerOutputSerializer,
            202: CustomerAcceptedSerializer,
            **api_errors(400, conflict=True),
        },
        summary="Create a customer",
        description="Reps, managers and admins. Text is redacted before it is stored; the "
        "phone number is stored as E.164.\n\n"
        "Admins get 201 with the new customer, or 409 when its external ref or email (in any "
        "case) is already taken.\n\n"
        "Reps and managers see only the customers of their contacts, so the answer never "
        "says whether a customer outside their scope exists: they get 202 with the values "
        "as VoC stores them (and no id) both when the customer is new and when the ref or "
        "email belongs to a customer outside their scope or to an erased one (then nothing "
        "is stored, and the match is recorded in that customer's audit trail). Logging a "
        "contact with the same `customer_ref` or email attaches it to that one customer. "
        "A clash with a customer in their scope is a 409, as for admins.",
    )
    def post(self, request):
        data = validated_data(CustomerInputSerializer, request)
        customer = customer_create(**data, by=request.user)
        if not sees_everything(request.user):
            return Response(
                CustomerAcceptedSerializer(customer).data, status=status.HTTP_202_ACCEPTED
            )
        return Response(CustomerOutputSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerUpdateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [CanEditContacts]

    @extend_schema(
        request=CustomerInputSerializer,
        responses={
            200: CustomerOutputSerializer,
            **api_errors(400, 404, conflict=True),
        },
        summary="Change a customer",
        description="Only the fields sent change. Reps and managers may change customers "
        "they can see; admins any. A ref or email another customer holds is a 409 (for reps "
        "and managers, one outside their scope is recorded as an exact-match lookup).",
    )
    def post(self, request, customer_id: int):
        customer = selectors.customer_get_visible(viewer=request.user, customer_id=customer_id)
        if customer is None:
            raise Http404
        data = validated_data(CustomerInputSerializer, request, partial=True)
        customer = customer_update(customer=customer, changes=data, by=request.user)
        return Response(CustomerOutputSerializer(customer).data)
