"""The promote API: a feedback item, a side-by-side note or an outreach entry becomes a new
issue, or evidence on an existing one. One class per operation; the same services and the same
scope as the promote page (the caller must be able to read the source and the issue)."""

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.apis.common import StrictIntegerField, TextField
from contacts.models import ContactReason
from loops.access import PROMOTE
from loops.models import Issue, Severity
from loops.promote.services import Promoted, promote_to_issue, promote_to_new_issue
from loops.promote.sources import KINDS, PromotableSource, source_get_visible
from loops.selectors import issue_get_visible
from loops.services.issues import MAX_DESCRIPTION, MAX_TITLE
from voc.core.api import api_errors, validated_data
from voc.core.errors import Conflict
from voc.core.permissions import HasCapability
from voc.people.access import request_viewer

MAX_REASONS = 20
ID_MAX = 2**63 - 1

SOURCE_PARAMETERS = [
    OpenApiParameter(
        "kind",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        enum=list(KINDS),
        description="What is promoted: a feedback item, a side-by-side note, an outreach "
        "call, a be-a-customer exercise or a forum topic.",
    ),
    OpenApiParameter(
        "source_id",
        OpenApiTypes.INT,
        OpenApiParameter.PATH,
        description="Its id.",
    ),
]


class NewIssueInputSerializer(serializers.Serializer[Any]):
    title = TextField(max_length=MAX_TITLE, nonblank=True, required=True)
    description = TextField(max_length=MAX_DESCRIPTION)
    reason_ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=ID_MAX),
        max_length=MAX_REASONS,
        required=False,
        help_text="The reasons the issue explains; its department is the first one's.",
    )
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)

    class Meta:
        ref_name = "PromoteNewIssueInput"


class EvidenceInputSerializer(serializers.Serializer[Any]):
    issue_id = StrictIntegerField(min_value=1, max_value=ID_MAX)

    class Meta:
        ref_name = "PromoteEvidenceInput"


class PromotedIssueSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    severity = serializers.CharField()
    evidence_count = serializers.IntegerField()
    reason_ids = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        ref_name = "PromotedIssue"


class PromotedSerializer(serializers.Serializer[Any]):
    issue = PromotedIssueSerializer()
    evidence_id = serializers.IntegerField()
    opened = serializers.BooleanField(help_text="A new issue was opened.")
    added = serializers.BooleanField(
        help_text="The evidence is new; false: it was evidence on this issue already."
    )

    class Meta:
        ref_name = "Promoted"


def _source(request: Request, kind: str, source_id: int) -> PromotableSource:
    source = source_get_visible(viewer=request_viewer(request), kind=kind, source_id=source_id)
    if source is None:
        raise Http404
    return source


def _body(promoted: Promoted) -> dict[str, Any]:
    issue = promoted.issue
    return PromotedSerializer(
        {
            "issue": {
                "id": issue.pk,
                "title": issue.title,
                "status": issue.status,
                "severity": issue.severity,
                "evidence_count": issue.evidence_count,
                "reason_ids": sorted(issue.reasons.values_list("id", flat=True)),
            },
            "evidence_id": promoted.evidence.pk,
            "opened": promoted.opened,
            "added": promoted.added,
        }
    ).data


class PromoteNewIssueApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(PROMOTE)]

    @extend_schema(
        parameters=SOURCE_PARAMETERS,
        request=NewIssueInputSerializer,
        responses={
            201: OpenApiResponse(PromotedSerializer, description="Opened, with the source."),
            **api_errors(400, 404, conflict=True),
        },
        summary="Promote to a new issue",
        description="Opens an issue with the source as its first evidence. The caller must be "
        "able to read the source (404 otherwise). 409: the source is evidence on an open issue "
        "already (promote it to that one instead), or a reason does not exist.",
    )
    def post(self, request: Request, kind: str, source_id: int) -> Response:
        source = _source(request, kind, source_id)
        data = validated_data(NewIssueInputSerializer, request)
        reason_ids = list(dict.fromkeys(data.get("reason_ids", [])))
        reasons = ContactReason.objects.in_bulk(reason_ids)
        missing = [reason_id for reason_id in reason_ids if reason_id not in reasons]
        if missing:
            raise Conflict({"reason_ids": f"No reason {missing[0]}."})
        promoted = promote_to_new_issue(
            source=source,
            title=data["title"],
            description=data.get("description", ""),
            reasons=[reasons[reason_id] for reason_id in reason_ids],
            severity=data.get("severity", Severity.MEDIUM),
            by=request_viewer(request),
        )
        return Response(_body(promoted), status=status.HTTP_201_CREATED)


class PromoteEvidenceApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(PROMOTE)]

    @extend_schema(
        parameters=SOURCE_PARAMETERS,
        request=EvidenceInputSerializer,
        responses={
            201: OpenApiResponse(PromotedSerializer, description="Added as evidence."),
            200: OpenApiResponse(
                PromotedSerializer,
                description="It was evidence on this issue already: nothing changed.",
            ),
            **api_errors(400, 404, conflict=True),
        },
        summary="Promote as evidence on an existing issue",
        description="Adds the source to the issue's evidence, once. The caller must be able "
        "to read the source and the issue (404 otherwise). 409: the issue was merged into "
        "another (its number is named), is closed or won't be fixed.",
    )
    def post(self, request: Request, kind: str, source_id: int) -> Response:
        source = _source(request, kind, source_id)
        data = validated_data(EvidenceInputSerializer, request)
        try:
            issue = issue_get_visible(viewer=request_viewer(request), issue_id=data["issue_id"])
        except Issue.DoesNotExist:
            raise Http404 from None
        promoted = promote_to_issue(source=source, issue=issue, by=request_viewer(request))
        return Response(
            _body(promoted),
            status=status.HTTP_201_CREATED if promoted.added else status.HTTP_200_OK,
        )
