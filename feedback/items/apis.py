"""The feedback items REST API: send one item or a batch (systems with an ingest token, and
admins), list and read the items the caller may see (every role, within its row scope)."""

import django_filters
from django.http import Http404
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.apis.bulk import (
    NDJSON,
    BulkResultSerializer,
    BulkSchema,
    NDJSONParser,
    bulk_ingest_response,
)
from contacts.apis.common import (
    INGEST_AUTHENTICATION,
    EmailInputField,
    StrictIntegerField,
    TextField,
    WhenField,
)
from contacts.apis.filters import TimeFilter
from contacts.authentication import HasIngestToken, IngestTokenRateThrottle, ingest_token_of
from contacts.ingest.service import MAX_BATCH
from contacts.ingest.tokens import API_SOURCE
from contacts.models import Channel
from feedback.access import INGEST_ITEMS
from feedback.items.records import MAX_VERBATIM
from feedback.items.selectors import feedback_get_visible, feedback_list_visible
from feedback.items.services import feedback_item_submit, feedback_items_ingest
from feedback.models import FeedbackItem
from voc.core.api import (
    IdFilter,
    StrictFilterSet,
    StrictLimitOffsetPagination,
    api_errors,
    validated_data,
)
from voc.core.audit import SystemActor
from voc.core.permissions import HasCapability, IsActiveUser

CanIngestItems = HasCapability(INGEST_ITEMS)


class FeedbackItemInputSerializer(serializers.Serializer):
    """One feedback item in feedback field names (the same as a row of the bulk endpoint)."""

    kind = serializers.ChoiceField(choices=FeedbackItem.Kind.choices)
    score = StrictIntegerField(
        required=False, allow_null=True, min_value=0, max_value=10,
        help_text="NPS 0–10, CSAT 1–5, CES 1–7; none for other kinds.",
    )  # fmt: skip
    verbatim = TextField(max_length=MAX_VERBATIM, help_text="Redacted before it is stored.")
    source = TextField(  # type: ignore[assignment]  # a field named like Field.source
        max_length=50, help_text="Admins only; an ingest token's source wins."
    )
    external_id = TextField(
        max_length=200, help_text="The item's id in the source; sending it again updates it."
    )
    received_at = WhenField(required=False, help_text="Defaults to now.")
    customer_ref = TextField(max_length=100, help_text="A known customer's external ref, …")
    customer_email = EmailInputField(required=False, help_text="… or email.")
    contact_source = TextField(max_length=50, help_text="Defaults to the item's source.")
    contact_external_id = TextField(max_length=200, help_text="Links the item to that contact.")
    reason = TextField(
        max_length=250, help_text="The topic by hand: “Reason” or “Parent › Reason”."
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)

    class Meta:
        ref_name = "FeedbackItemInput"


def _one_of_text(values: list[str]) -> dict:
    """A pattern, not an enum: drf-spectacular would merge every "kind" enum into one
    component, losing the branch's own kinds."""
    return {"type": "string", "pattern": f"^({'|'.join(values)})$", "example": values[0]}


def _by_kind(base: dict) -> dict:
    """The input schema as one complete object schema per kind, each with the score that kind
    takes (the service checks the same), so a schema-valid item is one VoC stores."""
    properties = dict(base.get("properties", {}))
    required = [name for name in base.get("required", []) if name not in ("kind", "score")]
    branches = []
    for kind, (low, high) in FeedbackItem.SCORE_RANGES.items():
        branch_properties = {
            **properties,
            "kind": _one_of_text([kind.value]),
            "score": {"type": "integer", "minimum": low, "maximum": high},
        }
        branches.append(
            {"type": "object", "properties": branch_properties,
             "required": ["kind", "score", *required]}
        )  # fmt: skip
    others = [kind for kind in FeedbackItem.Kind.values if kind not in FeedbackItem.SCORE_RANGES]
    other_properties = {
        name: value for name, value in properties.items() if name not in ("kind", "score")
    }
    other_properties["kind"] = _one_of_text(others)
    branches.append(
        {"type": "object", "properties": other_properties, "required": ["kind", *required],
         "not": {"required": ["score"]}}
    )  # fmt: skip
    return {"oneOf": branches, "description": base.get("description", "")}


class FeedbackItemInputSchema(OpenApiSerializerExtension):
    target_class = "feedback.items.apis.FeedbackItemInputSerializer"

    def map_serializer(self, auto_schema, direction):
        return _by_kind(auto_schema._map_basic_serializer(self.target, direction))


class FeedbackBulkRowSerializer(serializers.Serializer):
    """Documents one bulk row; rows are checked one by one by the service, not here."""

    class Meta:
        ref_name = "FeedbackBulkRow"


class FeedbackBulkRowSchema(OpenApiSerializerExtension):
    target_class = "feedback.items.apis.FeedbackBulkRowSerializer"

    def map_serializer(self, auto_schema, direction):
        # Any JSON value is accepted as a row: one that isn't a valid item is reported in
        # `errors` with its index, while the other rows are stored.
        return {
            "description": "A feedback item in the fields of FeedbackItemInput, with an "
            "`external_id`; `source` is ignored with an ingest token. Rows are checked one by "
            "one: a row that isn't a valid item is reported in `errors`."
        }


class FeedbackItemOutputSerializer(serializers.ModelSerializer):
    reason_name = serializers.SerializerMethodField()

    class Meta:
        model = FeedbackItem
        ref_name = "FeedbackItem"
        fields = [
            "id", "kind", "score", "band", "verbatim", "source", "external_id", "received_at",
            "customer", "contact", "reason", "reason_name", "topic_source", "channel", "team",
            "customer_segment", "sentiment", "created_at",
        ]  # fmt: skip

    def get_reason_name(self, item: FeedbackItem) -> str:
        return str(item.reason) if item.reason_id else ""


class FeedbackItemFilter(StrictFilterSet):
    kind = django_filters.ChoiceFilter(choices=FeedbackItem.Kind.choices)
    since = TimeFilter(field_name="received_at", lookup_expr="gte", help_text="At or after.")
    until = TimeFilter(field_name="received_at", lookup_expr="lt", help_text="Before.")
    customer = IdFilter(field_name="customer_id")
    contact = IdFilter(field_name="contact_id")


class _BodyRequired(AutoSchema):
    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
        return body


def _source_of(request, data: dict) -> str:
    token = ingest_token_of(request)
    if token is not None:
        return token.source
    source = (data.get("source") or "").strip()
    return source or API_SOURCE


@extend_schema_view(
    get=extend_schema(
        responses={200: FeedbackItemOutputSerializer(many=True), **api_errors(400)},
        summary="Feedback items the caller may see",
        description="Newest first: reps their team's, managers their teams' and departments', "
        "executives and admins all.",
    )
)
class FeedbackItemListApi(ListAPIView):
    schema = _BodyRequired()
    authentication_classes = INGEST_AUTHENTICATION
    serializer_class = FeedbackItemOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = FeedbackItemFilter
    parser_classes = [JSONParser]
    throttle_classes = [IngestTokenRateThrottle]

    def get_permissions(self):
        if self.request.method == "POST":
            return [(HasIngestToken | CanIngestItems)()]
        return [IsActiveUser()]

    def get_queryset(self):
        return (
            feedback_list_visible(viewer=self.request.user)
            .select_related("reason__parent")
            .order_by("-received_at", "-id")
        )

    @extend_schema(
        request=FeedbackItemInputSerializer,
        responses={
            201: OpenApiResponse(FeedbackItemOutputSerializer, description="Created."),
            200: OpenApiResponse(
                FeedbackItemOutputSerializer,
                description="An item with this source and external id existed: updated.",
            ),
            **api_errors(400, 429, conflict=True),
        },
        summary="Send one feedback item",
        description="A system with an ingest token (stored under its source) or an admin "
        f"(`source`, default “{API_SOURCE}”). Scores outside the kind's range are refused; "
        "the verbatim is redacted before it is stored. The topic is the reason given, else "
        "the linked contact's, else the first keyword rule that matches.",
    )
    def post(self, request):
        data = validated_data(FeedbackItemInputSerializer, request)
        token = ingest_token_of(request)
        saved = feedback_item_submit(
            row=data,
            source=_source_of(request, data),
            by=SystemActor(f"ingest:{token.source}") if token else request.user,
        )
        item = (
            feedback_list_visible(viewer=request.user)
            .model.objects.select_related("reason__parent")
            .get(id=saved.item.id)
        )
        return Response(
            FeedbackItemOutputSerializer(item).data,
            status=status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK,
        )


class FeedbackItemDetailApi(APIView):
    @extend_schema(
        responses={200: FeedbackItemOutputSerializer, **api_errors(404)},
        summary="One feedback item",
    )
    def get(self, request, item_id: int):
        item = feedback_get_visible(viewer=request.user, item_id=item_id)
        if item is None:
            raise Http404
        return Response(FeedbackItemOutputSerializer(item).data)


class FeedbackItemBulkApi(APIView):
    authentication_classes = INGEST_AUTHENTICATION
    permission_classes = [HasIngestToken | CanIngestItems]
    throttle_classes = [IngestTokenRateThrottle]
    parser_classes = [JSONParser, NDJSONParser]
    schema = BulkSchema()

    @extend_schema(
        request={
            "application/json": FeedbackBulkRowSerializer(many=True),
            NDJSON: OpenApiTypes.STR,
        },
        responses={
            200: BulkResultSerializer,
            **api_errors(400, 429),
            413: OpenApiResponse(description=f"More than {MAX_BATCH:,} rows, or too large a body."),
            415: OpenApiResponse(description="Neither JSON nor NDJSON."),
        },
        summary=f"Send up to {MAX_BATCH:,} feedback items",
        description=(
            "A system with an ingest token (rows are stored under its source) or an admin "
            "(rows carry `source`). A JSON array or NDJSON (one object a line), at most "
            f"{MAX_BATCH:,} rows, each with an `external_id`: rows are idempotent on (source, "
            "external_id). Each bad row is reported with its index (and line, for NDJSON), "
            "field and reason, never its value; the good rows are stored, in one transaction."
        ),
    )
    def post(self, request):
        return bulk_ingest_response(
            request, ingest=feedback_items_ingest, default_source=API_SOURCE
        )
