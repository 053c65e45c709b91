"""The reasons operations of the contacts REST API."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.apis.common import IsAdminRole, StrictBooleanField, _regex, id_field
from contacts.apis.filters import ReasonFilter
from contacts.apis.serializers import ReasonOutputSerializer
from contacts.models import ContactReason
from contacts.services.reasons import reason_create, reason_update
from voc.core.api import StrictCharField, StrictLimitOffsetPagination, api_errors, validated_data

# --- reasons ------------------------------------------------------------------------------


@extend_schema_view(get=extend_schema(responses={200: ReasonOutputSerializer, **api_errors(400)}))
class ReasonListApi(ListAPIView):
    """The contact-reason taxonomy: active reasons unless include_retired is given."""

    serializer_class = ReasonOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = ReasonFilter

    def get_queryset(self):
        return ContactReason.objects.select_related("parent").order_by("parent__name", "name", "id")


class ReasonDetailApi(APIView):
    @extend_schema(
        responses={200: ReasonOutputSerializer, **api_errors(404)},
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
    # A declared field: DRF's metaclass takes it off the class, leaving Field.parent be.
    parent = id_field(  # type: ignore[assignment]
        required=False, allow_null=True, help_text="A top-level reason; empty for top level."
    )
    department = id_field(
        required=False, allow_null=True, help_text="The department that owns these contacts."
    )
    avoidable = StrictBooleanField(required=False)
    complaint = StrictBooleanField(
        required=False, help_text="Contacts for it are complaints; its sub-reasons inherit this."
    )

    class Meta:
        ref_name = "ReasonInput"


class ReasonCreateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [IsAdminRole]

    @extend_schema(
        request=ReasonInputSerializer,
        responses={201: ReasonOutputSerializer, **api_errors(400, conflict=True)},
        summary="Add a reason to the taxonomy (admins)",
    )
    def post(self, request):
        data = validated_data(ReasonInputSerializer, request)
        reason = reason_create(**data, by=request.user)
        return Response(ReasonOutputSerializer(reason).data, status=status.HTTP_201_CREATED)


class ReasonUpdateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [IsAdminRole]

    @extend_schema(
        request=ReasonInputSerializer(partial=True),
        responses={200: ReasonOutputSerializer, **api_errors(400, 404, conflict=True)},
        summary="Change a reason (admins)",
        description="Only the fields sent change; contacts keep their reason, so history "
        "follows. Retiring and merging are done in the admin.",
    )
    def post(self, request, reason_id: int):
        reason = ContactReason.objects.filter(id=reason_id).first()
        if reason is None:
            raise Http404
        data = validated_data(ReasonInputSerializer, request, partial=True)
        reason = reason_update(reason=reason, changes=data, by=request.user)
        return Response(ReasonOutputSerializer(reason).data)
