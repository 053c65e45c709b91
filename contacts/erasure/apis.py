"""POST /api/v1/customers/{id}/erase/: erase a customer (admins only)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import selectors
from contacts.access import ERASE_CUSTOMERS
from contacts.apis.common import TextField
from contacts.erasure.services import AlreadyErased, customer_erase
from contacts.models import CustomerErasure
from voc.core.api import ConflictError, ErrorSerializer, error_responses, validated_data
from voc.core.permissions import HasCapability
from voc.people.access import request_viewer


class CustomerEraseInputSerializer(serializers.Serializer[object]):
    note = TextField(
        max_length=200,
        help_text="A ticket or request reference, kept with the erasure. Never personal data.",
    )

    class Meta:
        ref_name = "CustomerEraseInput"


class CustomerErasureOutputSerializer(serializers.ModelSerializer[CustomerErasure]):
    customer = serializers.IntegerField(source="customer_id_erased")
    erased_by = serializers.IntegerField(source="erased_by_id", allow_null=True)
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows removed or anonymised, by kind."
    )

    class Meta:
        model = CustomerErasure
        fields = ["id", "customer", "erased_at", "erased_by", "counts", "note"]
        ref_name = "CustomerErasure"


class CustomerEraseApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(ERASE_CUSTOMERS)]

    @extend_schema(
        request=CustomerEraseInputSerializer,
        responses={
            200: CustomerErasureOutputSerializer,
            **error_responses(400, 404),
            409: OpenApiResponse(
                response=ErrorSerializer, description="The customer was already erased."
            ),
        },
        summary="Erase a customer",
        description="Admins only; irreversible. Removes the customer's identity and the texts "
        "of their contacts everywhere VoC keeps them (contacts and their counts stay), and "
        "refuses later imports, API calls and emails with the same identifiers. Records "
        "merged into the customer are erased with it. See docs/erasure.md.",
    )
    def post(self, request: Request, customer_id: int) -> Response:
        viewer = request_viewer(request)
        customer = selectors.customer_get_visible(viewer=viewer, customer_id=customer_id)
        if customer is None:
            raise Http404
        data = validated_data(CustomerEraseInputSerializer, request)
        if customer.erased_at is not None:
            raise ConflictError("The customer was already erased.")
        try:
            erasure = customer_erase(customer=customer, by=viewer, note=data.get("note", ""))
        except AlreadyErased as error:  # erased by a concurrent request since the read above
            raise ConflictError(error.messages[0]) from None
        return Response(CustomerErasureOutputSerializer(erasure).data)
