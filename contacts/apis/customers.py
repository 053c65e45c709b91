"""The customers operations of the contacts REST API."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import selectors
from contacts.apis.common import (
    CanEditContacts,
    EmailInputField,
    PhoneField,
    SegmentField,
    TextField,
)
from contacts.apis.filters import CustomerFilter
from contacts.apis.serializers import CustomerOutputSerializer
from contacts.services.customers import customer_create, customer_update
from voc.core.api import StrictLimitOffsetPagination, api_errors, validated_data

# --- customers ----------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(responses={200: CustomerOutputSerializer, **api_errors(400)}))
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
        responses={200: CustomerOutputSerializer, **api_errors(404)},
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
        responses={201: CustomerOutputSerializer, **api_errors(400, conflict=True)},
        summary="Create a customer",
        description="Reps, managers and admins. Text is redacted before it is stored; the "
        "phone number is stored as E.164. A customer whose external ref or email (in any "
        "case) is already taken is refused with 409.",
    )
    def post(self, request):
        data = validated_data(CustomerInputSerializer, request)
        customer = customer_create(**data, by=request.user)
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
        "they can see; admins any.",
    )
    def post(self, request, customer_id: int):
        customer = selectors.customer_get_visible(viewer=request.user, customer_id=customer_id)
        if customer is None:
            raise Http404
        data = validated_data(CustomerInputSerializer, request, partial=True)
        customer = customer_update(customer=customer, changes=data, by=request.user)
        return Response(CustomerOutputSerializer(customer).data)
