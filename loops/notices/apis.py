"""The notices API: the audience of an issue's notice, its notices, one notice with its
counts, its recipients; write a draft, edit it, approve it. One class per operation; the same
services and scope as the pages (404 for an issue or notice out of the caller's scope, 403 for
one they see but may not send: only the issue's owner or its department head sends)."""

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.apis.common import StrictBooleanField, TextField
from loops.access import SEND_NOTICES, VIEW_ISSUES
from loops.models import FixNotice, Issue, NoticeRecipient
from loops.notices.selectors import (
    NoticeCounts,
    may_send_notices,
    notice_audience,
    notice_counts,
    notice_get_visible,
    notice_list_visible,
    notice_recipients,
)
from loops.notices.services import (
    MAX_BODY,
    MAX_SUBJECT,
    notice_approve,
    notice_draft,
    notice_edit,
)
from loops.selectors import issue_get_visible
from voc.core.api import StrictLimitOffsetPagination, api_errors, validated_data
from voc.core.permissions import HasCapability
from voc.people.access import request_viewer


def _issue(request: Request, issue_id: int) -> Issue:
    try:
        return issue_get_visible(viewer=request_viewer(request), issue_id=issue_id)
    except Issue.DoesNotExist:
        raise Http404 from None


def _notice(request: Request, notice_id: int) -> FixNotice:
    try:
        return notice_get_visible(viewer=request_viewer(request), notice_id=notice_id)
    except FixNotice.DoesNotExist:
        raise Http404 from None


def _check_may_send(request: Request, issue: Issue) -> None:
    if not may_send_notices(request_viewer(request), issue):
        raise exceptions.PermissionDenied(
            "Only the issue's owner or its department head sends notices."
        )


class NoticeCountsSerializer(serializers.Serializer[NoticeCounts]):
    total = serializers.IntegerField()
    sent = serializers.IntegerField(help_text="Handed to the email service.")
    delivered = serializers.SerializerMethodField()
    bounced = serializers.SerializerMethodField()
    complained = serializers.SerializerMethodField()
    waiting = serializers.IntegerField()
    failed = serializers.SerializerMethodField()
    uncertain = serializers.SerializerMethodField(
        help_text="Caught between the service accepting and VoC recording: check its log."
    )
    left_out = serializers.IntegerField()
    left_out_by_reason = serializers.DictField(child=serializers.IntegerField(), source="by_reason")

    class Meta:
        ref_name = "NoticeCounts"

    def get_delivered(self, counts: NoticeCounts) -> int:
        return counts[NoticeRecipient.Status.DELIVERED]

    def get_bounced(self, counts: NoticeCounts) -> int:
        return counts[NoticeRecipient.Status.BOUNCED]

    def get_complained(self, counts: NoticeCounts) -> int:
        return counts[NoticeRecipient.Status.COMPLAINED]

    def get_failed(self, counts: NoticeCounts) -> int:
        return counts[NoticeRecipient.Status.FAILED]

    def get_uncertain(self, counts: NoticeCounts) -> int:
        return counts[NoticeRecipient.Status.UNCERTAIN]


class NoticeOutputSerializer(serializers.ModelSerializer[FixNotice]):
    class Meta:
        model = FixNotice
        ref_name = "FixNotice"
        fields = [
            "id",
            "issue",
            "subject",
            "body",
            "include_reason_contacts",
            "status",
            "created_by",
            "created_at",
            "approved_by",
            "approved_at",
            "finished_at",
        ]


class NoticeDetailSerializer(NoticeOutputSerializer):
    counts = serializers.SerializerMethodField()

    class Meta(NoticeOutputSerializer.Meta):
        ref_name = "FixNoticeDetail"
        fields = [*NoticeOutputSerializer.Meta.fields, "counts"]

    @extend_schema_field(NoticeCountsSerializer)
    def get_counts(self, notice: FixNotice) -> dict[str, Any]:
        return NoticeCountsSerializer(notice_counts([notice.pk])[notice.pk]).data


class RecipientOutputSerializer(serializers.ModelSerializer[NoticeRecipient]):
    status = serializers.CharField(
        source="shown",
        help_text="pending, sent, delivered, bounced, complained, failed, skipped or uncertain "
        "(send-once's news folded in).",
    )

    class Meta:
        model = NoticeRecipient
        ref_name = "NoticeRecipient"
        fields = ["id", "customer", "reporter", "status", "skip_reason", "detail", "updated_at"]


class AudienceSerializer(serializers.Serializer[Any]):
    reporters = serializers.IntegerField(help_text="Customers who reported the issue.")
    reachable_reporters = serializers.IntegerField()
    reason_contacts = serializers.IntegerField(
        help_text="More customers with a contact on its reasons since it was first seen."
    )
    reachable_reason_contacts = serializers.IntegerField()
    left_out_by_reason = serializers.DictField(child=serializers.IntegerField())

    class Meta:
        ref_name = "NoticeAudience"


class NoticeInputSerializer(serializers.Serializer[Any]):
    subject = TextField(max_length=MAX_SUBJECT, nonblank=True, required=False)
    body = TextField(max_length=MAX_BODY, nonblank=True, required=False)
    include_reason_contacts = StrictBooleanField(required=False)

    class Meta:
        ref_name = "NoticeInput"


class NoticeEditInputSerializer(serializers.Serializer[Any]):
    subject = TextField(max_length=MAX_SUBJECT, nonblank=True, required=True)
    body = TextField(max_length=MAX_BODY, nonblank=True, required=True)
    include_reason_contacts = StrictBooleanField(required=False, default=False)

    class Meta:
        ref_name = "NoticeEditInput"


class NoticeAudienceApi(APIView):
    permission_classes = [HasCapability(SEND_NOTICES)]

    @extend_schema(
        responses={200: AudienceSerializer, **api_errors(403, 404)},
        summary="Who a fix notice for the issue would reach",
        description="The reporters, the customers with a contact on its reasons since it was "
        "first seen, and how many would be left out and why (read, not claimed).",
    )
    def get(self, request: Request, issue_id: int) -> Response:
        issue = _issue(request, issue_id)
        _check_may_send(request, issue)
        audience = notice_audience(issue)
        return Response(
            AudienceSerializer(
                {
                    "reporters": len(audience.reporters),
                    "reachable_reporters": audience.reachable_reporters,
                    "reason_contacts": len(audience.others),
                    "reachable_reason_contacts": audience.reachable_others,
                    "left_out_by_reason": audience.left_out,
                }
            ).data
        )


class NoticeListApi(ListAPIView):
    serializer_class = NoticeOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    permission_classes = [HasCapability(VIEW_ISSUES)]
    filter_backends: list = []

    def get_queryset(self):
        issue = _issue(self.request, self.kwargs["issue_id"])
        return notice_list_visible(viewer=request_viewer(self.request)).filter(issue=issue)

    @extend_schema(
        responses={200: NoticeOutputSerializer(many=True), **api_errors(400, 404)},
        summary="The fix notices of an issue",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NoticeCreateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(SEND_NOTICES)]

    @extend_schema(
        request=NoticeInputSerializer,
        responses={201: NoticeDetailSerializer, **api_errors(400, 403, 404)},
        summary="Write a draft fix notice",
        description="For a fixed or verified issue (400 otherwise), by its owner or its "
        "department head (403 otherwise). Subject and text default to a short notice.",
    )
    def post(self, request: Request, issue_id: int) -> Response:
        issue = _issue(request, issue_id)
        _check_may_send(request, issue)
        data = validated_data(NoticeInputSerializer, request)
        notice = notice_draft(issue=issue, by=request_viewer(request), **data)
        return Response(NoticeDetailSerializer(notice).data, status=status.HTTP_201_CREATED)


class NoticeDetailApi(APIView):
    permission_classes = [HasCapability(VIEW_ISSUES)]

    @extend_schema(
        responses={200: NoticeDetailSerializer, **api_errors(404)},
        summary="One fix notice with its delivery counts",
    )
    def get(self, request: Request, notice_id: int) -> Response:
        return Response(NoticeDetailSerializer(_notice(request, notice_id)).data)


class NoticeEditApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(SEND_NOTICES)]

    @extend_schema(
        request=NoticeEditInputSerializer,
        responses={200: NoticeDetailSerializer, **api_errors(400, 403, 404)},
        summary="Change a draft notice's subject, text or audience",
        description="400 once it was approved.",
    )
    def post(self, request: Request, notice_id: int) -> Response:
        notice = _notice(request, notice_id)
        _check_may_send(request, notice.issue)
        data = validated_data(NoticeEditInputSerializer, request)
        notice = notice_edit(notice=notice, by=request_viewer(request), **data)
        return Response(NoticeDetailSerializer(notice).data)


class NoticeApproveApi(APIView):
    permission_classes = [HasCapability(SEND_NOTICES)]

    @extend_schema(
        request=None,
        responses={200: NoticeDetailSerializer, **api_errors(400, 403, 404)},
        summary="Approve a draft notice: the workers send it, once per customer",
        description="400 when it was approved already or the issue is no longer fixed.",
    )
    def post(self, request: Request, notice_id: int) -> Response:
        notice = _notice(request, notice_id)
        _check_may_send(request, notice.issue)
        notice = notice_approve(notice=notice, by=request_viewer(request))
        return Response(NoticeDetailSerializer(notice).data)


class NoticeRecipientListApi(ListAPIView):
    serializer_class = RecipientOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    permission_classes = [HasCapability(VIEW_ISSUES)]
    filter_backends: list = []

    def get_queryset(self):
        notice = _notice(self.request, self.kwargs["notice_id"])
        statuses = self.request.query_params.getlist("status")
        status_ = ""
        if statuses:
            status_ = statuses[0]
            if len(statuses) > 1 or status_ not in NoticeRecipient.Status.values:
                raise exceptions.ValidationError(
                    {"status": [f"Choose one of: {', '.join(NoticeRecipient.Status.values)}."]}
                )
        return notice_recipients(notice, status=status_)

    @extend_schema(
        responses={200: RecipientOutputSerializer(many=True), **api_errors(400, 404)},
        summary="A fix notice's recipients, with their status and why some were left out",
        parameters=[
            OpenApiParameter(
                "status", str, OpenApiParameter.QUERY, enum=NoticeRecipient.Status.values
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
