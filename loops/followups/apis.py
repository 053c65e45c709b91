"""The follow-up operations of the REST API: list, one follow-up, record the call. Refusals
answer 4xx with a message, never a 500."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.apis.common import TextField
from loops.access import VIEW_FOLLOW_UPS, WORK_FOLLOW_UPS
from loops.followups.selectors import follow_up_list_visible
from loops.followups.services import MAX_NOTES, follow_up_close
from loops.models import FollowUp
from voc.core.api import StrictLimitOffsetPagination, api_errors, validated_data
from voc.core.permissions import HasCapability


class FollowUpOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUp
        ref_name = "FollowUp"
        fields = [
            "id",
            "trigger",
            "feedback_item",
            "contact",
            "customer",
            "assignee",
            "team",
            "department",
            "status",
            "created_at",
            "due_at",
            "closed_at",
            "outcome",
            "notes",
            "closed_by",
        ]


class FollowUpCloseInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=FollowUp.Outcome.choices,
        help_text="What happened on the call; `not_allowed` is set by VoC only (400).",
    )
    notes = TextField(max_length=MAX_NOTES, help_text="Redacted before it is stored.")

    class Meta:
        ref_name = "FollowUpCloseInput"


class FollowUpListApi(ListAPIView):
    serializer_class = FollowUpOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    permission_classes = [HasCapability(VIEW_FOLLOW_UPS)]
    filter_backends: list = []

    def get_queryset(self):
        follow_ups = follow_up_list_visible(viewer=self.request.user).order_by("due_at", "id")
        statuses = self.request.query_params.getlist("status")
        if statuses:
            status = statuses[0]
            if len(statuses) > 1 or status not in FollowUp.Status.values:
                raise exceptions.ValidationError(
                    {"status": [f"Choose one of: {', '.join(FollowUp.Status.values)}."]}
                )
            follow_ups = follow_ups.filter(status=status)
        return follow_ups

    @extend_schema(
        responses={200: FollowUpOutputSerializer(many=True), **api_errors(400)},
        summary="Call backs the caller may see",
        description="The soonest due first; `status` (open, done, cancelled) filters.",
        parameters=[
            OpenApiParameter("status", str, OpenApiParameter.QUERY, enum=FollowUp.Status.values)
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class FollowUpDetailApi(RetrieveAPIView):
    serializer_class = FollowUpOutputSerializer
    permission_classes = [HasCapability(VIEW_FOLLOW_UPS)]
    lookup_url_kwarg = "follow_up_id"

    def get_queryset(self):
        return follow_up_list_visible(viewer=self.request.user)

    @extend_schema(
        responses={200: FollowUpOutputSerializer, **api_errors(404)}, summary="One call back"
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class FollowUpCloseApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(WORK_FOLLOW_UPS)]

    @extend_schema(
        request=FollowUpCloseInputSerializer,
        responses={200: FollowUpOutputSerializer, **api_errors(400, 403, 404)},
        summary="Record a call back and close it",
        description="By the follow-up's owner or a manager whose scope holds it (403 "
        "otherwise); 400 when it is already closed.",
    )
    def post(self, request, follow_up_id: int):
        follow_up = follow_up_list_visible(viewer=request.user).filter(pk=follow_up_id).first()
        if follow_up is None:
            raise Http404
        data = validated_data(FollowUpCloseInputSerializer, request)
        try:
            follow_up = follow_up_close(
                follow_up=follow_up,
                outcome=data["outcome"],
                notes=data.get("notes", ""),
                by=request.user,
            )
        except PermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error
        return Response(FollowUpOutputSerializer(follow_up).data)
