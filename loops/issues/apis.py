"""The issues API: list (scoped, filtered), one issue, open, edit, assign, change status, merge,
and its evidence (list, add, remove). One class per operation, the same services and scope as
the pages; refusals are 4xx with a message, never a 500."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.apis.common import StrictIntegerField, TextField
from contacts.models import ContactReason
from contacts.selectors import contact_list_visible
from feedback.items.selectors import feedback_list_visible
from loops.access import MANAGE_ISSUES, VIEW_ISSUES
from loops.issues.forms import WHY_MAX
from loops.models import Issue, IssueEvidence, Severity
from loops.selectors import (
    SLA_STATES,
    BoardFilters,
    issue_board_queryset,
    issue_get_visible,
)
from loops.services.issues import (
    MAX_DESCRIPTION,
    MAX_TITLE,
    evidence_add,
    evidence_remove,
    issue_assign,
    issue_edit,
    issue_merge,
    issue_open,
    issue_transition,
    may_manage_issue,
)
from voc.core.api import StrictLimitOffsetPagination, api_errors, validated_data
from voc.core.errors import Conflict
from voc.core.permissions import HasCapability
from voc.people.access import request_viewer
from voc.people.models import Department, User

ID_MAX = 2**63 - 1
MAX_REASONS = 20
STATUS_FILTERS = ["open", "any", *Issue.Status.values]
MAX_QUERY = 100
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": ID_MAX}


TICKET_URL = r"^(https?://[!-~]{1,180})?$"


@extend_schema_field(
    {"type": "string", "pattern": TICKET_URL, "maxLength": 200,
     "example": "https://tracker.example/T-123"}
)  # fmt: skip
class TicketUrlField(serializers.CharField):
    """The engineering ticket's http(s) address, or "" for none."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(
            max_length=200,
            allow_blank=True,
            trim_whitespace=False,
            validators=[RegexValidator(TICKET_URL, "Give the ticket's http(s) address.")],
            **kwargs,
        )


def _id(**kwargs: Any) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=ID_MAX, **kwargs)


class IssueOutputSerializer(serializers.ModelSerializer[Issue]):
    reason_ids = serializers.SerializerMethodField()

    class Meta:
        model = Issue
        ref_name = "Issue"
        fields = [
            "id",
            "title",
            "description",
            "status",
            "severity",
            "department",
            "owner",
            "sponsor",
            "reason_ids",
            "wont_fix_reason",
            "merged_into",
            "ticket_url",
            "created_at",
            "updated_at",
            "status_changed_at",
            "response_due_at",
            "responded_at",
            "resolution_due_at",
            "fixed_at",
            "verified_at",
            "closed_at",
            "first_seen_at",
            "last_seen_at",
            "evidence_count",
        ]

    def get_reason_ids(self, issue: Issue) -> list[int]:
        return sorted(reason.pk for reason in issue.reasons.all())


class EvidenceOutputSerializer(serializers.ModelSerializer[IssueEvidence]):
    class Meta:
        model = IssueEvidence
        ref_name = "IssueEvidence"
        fields = [
            "id",
            "issue",
            "kind",
            "contact",
            "feedback_item",
            "session_note",
            "outreach_call",
            "exercise",
            "forum_topic",
            "customer",
            "occurred_at",
            "added_by",
            "added_at",
        ]


class IssueCreateInputSerializer(serializers.Serializer[Any]):
    title = TextField(max_length=MAX_TITLE, nonblank=True, required=True)
    description = TextField(max_length=MAX_DESCRIPTION)
    reason_ids = serializers.ListField(
        child=_id(), max_length=MAX_REASONS, required=False,
        help_text="The reasons it explains; the department defaults to the first one's.",
    )  # fmt: skip
    department_id = _id(required=False, allow_null=True)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    owner_id = _id(required=False, allow_null=True, help_text="An active manager.")
    sponsor_id = _id(required=False, allow_null=True, help_text="An active executive.")
    ticket_url = TicketUrlField()

    class Meta:
        ref_name = "IssueCreateInput"


class IssueEditInputSerializer(serializers.Serializer[Any]):
    title = TextField(max_length=MAX_TITLE, nonblank=True)
    description = TextField(max_length=MAX_DESCRIPTION)
    reason_ids = serializers.ListField(child=_id(), max_length=MAX_REASONS, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    sponsor_id = _id(required=False, allow_null=True, help_text="An active executive; null: none.")
    ticket_url = TicketUrlField()
    why = TextField(max_length=WHY_MAX)

    class Meta:
        ref_name = "IssueEditInput"


class IssueAssignInputSerializer(serializers.Serializer[Any]):
    owner_id = _id(help_text="An active manager.")
    why = TextField(max_length=WHY_MAX)

    class Meta:
        ref_name = "IssueAssignInput"


class IssueTransitionInputSerializer(serializers.Serializer[Any]):
    to = serializers.ChoiceField(choices=Issue.Status.choices)
    why = TextField(
        max_length=WHY_MAX,
        help_text="Required to reopen and for won't fix (the reporters read it).",
    )

    class Meta:
        ref_name = "IssueTransitionInput"


class IssueMergeInputSerializer(serializers.Serializer[Any]):
    survivor_id = _id(help_text="The issue that stays; this one becomes its duplicate.")
    why = TextField(max_length=WHY_MAX)

    class Meta:
        ref_name = "IssueMergeInput"


class EvidenceAddInputSerializer(serializers.Serializer[Any]):
    contact_id = _id(required=False)
    feedback_item_id = _id(required=False)
    why = TextField(max_length=WHY_MAX)

    class Meta:
        ref_name = "IssueEvidenceAddInput"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("contact_id" in attrs) == ("feedback_item_id" in attrs):
            raise serializers.ValidationError("Give exactly one of contact_id, feedback_item_id.")
        return attrs


class EvidenceRemoveInputSerializer(serializers.Serializer[Any]):
    why = TextField(max_length=WHY_MAX)

    class Meta:
        ref_name = "IssueEvidenceRemoveInput"


def _visible(request: Request, issue_id: int) -> Issue:
    try:
        return issue_get_visible(viewer=request_viewer(request), issue_id=issue_id)
    except Issue.DoesNotExist:
        raise Http404 from None


def _managed(request: Request, issue_id: int) -> Issue:
    issue = _visible(request, issue_id)
    if not may_manage_issue(request_viewer(request), issue):
        raise exceptions.PermissionDenied(
            "Only the issue's owner, its department head or an executive may."
        )
    return issue


def _user(user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise Conflict({field: f"No user {user_id}."})
    return user


def _reasons(reason_ids: list[int]) -> list[ContactReason]:
    ids = list(dict.fromkeys(reason_ids))
    found = ContactReason.objects.in_bulk(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        raise Conflict({"reason_ids": f"No reason {missing[0]}."})
    return [found[i] for i in ids]


def _out(issue: Issue) -> dict[str, Any]:
    issue = Issue.objects.prefetch_related("reasons").get(pk=issue.pk)
    return IssueOutputSerializer(issue).data


@contextmanager
def _state_conflicts() -> Iterator[None]:
    """A well-formed request the issue's state refuses (an illegal move, an owner who is not an
    active manager, a merged issue) is a 409 with the service's message."""
    try:
        yield
    except Conflict:
        raise
    except ValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
        raise Conflict(detail) from error


ISSUE_PATH = [OpenApiParameter("issue_id", OpenApiTypes.INT, OpenApiParameter.PATH)]


class IssueListApi(ListAPIView):
    serializer_class = IssueOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    permission_classes = [HasCapability(VIEW_ISSUES)]
    filter_backends: list = []

    def _one(self, name: str, allowed: list[str] | None = None) -> str:
        values = self.request.query_params.getlist(name)
        if not values:
            return ""
        if len(values) > 1 or (allowed is not None and values[0] not in allowed):
            choices = f"Choose one of: {', '.join(allowed)}." if allowed else "Give it once."
            raise exceptions.ValidationError({name: [choices]})
        return values[0]

    def _int(self, name: str) -> int | None:
        value = self._one(name)
        if not value:
            return None
        if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= ID_MAX:
            raise exceptions.ValidationError({name: ["Give a whole number id."]})
        return int(value)

    def get_queryset(self):
        text = self._one("q").replace("\x00", "")  # PostgreSQL cannot compare NUL
        if len(text) > MAX_QUERY:
            raise exceptions.ValidationError({"q": [f"At most {MAX_QUERY} characters."]})
        filters = BoardFilters(
            status=self._one("status", STATUS_FILTERS) or "any",
            severity=self._one("severity", Severity.values),
            department_id=self._int("department"),
            owner_id=self._int("owner"),
            sla=self._one("sla", list(SLA_STATES)),
            reason_id=self._int("reason"),
            text=text.strip(),
            sponsored_by_me=self._one("sponsored", ["true", "false"]) == "true",
        )
        return issue_board_queryset(
            viewer=request_viewer(self.request), filters=filters, now=timezone.now()
        ).prefetch_related("reasons")

    @extend_schema(
        responses={200: IssueOutputSerializer(many=True), **api_errors(400)},
        summary="Issues the caller may see",
        description="Oldest first; merged duplicates left out. Managers see their departments' "
        "issues, executives and admins all, reps what they flagged or opened.",
        parameters=[
            OpenApiParameter("status", str, enum=STATUS_FILTERS, description="Default: any."),
            OpenApiParameter("severity", str, enum=Severity.values),
            OpenApiParameter("department", ID_SCHEMA),
            OpenApiParameter("owner", ID_SCHEMA),
            OpenApiParameter("sla", str, enum=list(SLA_STATES)),
            OpenApiParameter("reason", ID_SCHEMA, description="Issues that explain it."),
            OpenApiParameter(
                "q",
                {"type": "string", "maxLength": MAX_QUERY},
                description="Words in the title or description.",
            ),
            OpenApiParameter("sponsored", str, enum=["true", "false"]),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class IssueDetailApi(APIView):
    permission_classes = [HasCapability(VIEW_ISSUES)]

    @extend_schema(
        parameters=ISSUE_PATH,
        responses={200: IssueOutputSerializer, **api_errors(404)},
        summary="One issue",
    )
    def get(self, request: Request, issue_id: int) -> Response:
        return Response(_out(_visible(request, issue_id)))


class IssueCreateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(MANAGE_ISSUES)]

    @extend_schema(
        request=IssueCreateInputSerializer,
        responses={201: IssueOutputSerializer, **api_errors(400, conflict=True)},
        summary="Open an issue",
        description="By managers and executives. 409: a reason, department or user that does "
        "not exist, an owner who is not an active manager, a sponsor who is not an active "
        "executive.",
    )
    def post(self, request: Request) -> Response:
        data = validated_data(IssueCreateInputSerializer, request)
        department = None
        if data.get("department_id") is not None:
            department = Department.objects.filter(pk=data["department_id"]).first()
            if department is None:
                raise Conflict({"department_id": f"No department {data['department_id']}."})
        with _state_conflicts():
            issue = issue_open(
                title=data["title"],
                description=data.get("description", ""),
                reasons=_reasons(data.get("reason_ids", [])),
                department=department,
                severity=data.get("severity", Severity.MEDIUM),
                owner=_user(data.get("owner_id"), "owner_id"),
                sponsor=_user(data.get("sponsor_id"), "sponsor_id"),
                ticket_url=data.get("ticket_url", ""),
                by=request_viewer(request),
            )
        return Response(_out(issue), status=status.HTTP_201_CREATED)


class IssueEditApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(MANAGE_ISSUES)]

    @extend_schema(
        parameters=ISSUE_PATH,
        request=IssueEditInputSerializer,
        responses={200: IssueOutputSerializer, **api_errors(400, 403, 404, conflict=True)},
        summary="Edit an issue",
        description="Only the fields given change. By its owner, its department head or an "
        "executive (403 otherwise); 409 for a merged duplicate or a sponsor who is not an active executive.",
    )
    def post(self, request: Request, issue_id: int) -> Response:
        issue = _managed(request, issue_id)
        data = validated_data(IssueEditInputSerializer, request)
        if issue.merged_into_id is not None:
            raise Conflict(f"This issue was merged into #{issue.merged_into_id}; edit that one.")
        fields: dict[str, Any] = {
            name: data[name]
            for name in ("title", "description", "severity", "ticket_url")
            if name in data
        }
        if "sponsor_id" in data:
            fields["sponsor"] = _user(data["sponsor_id"], "sponsor_id")
        reasons = _reasons(data["reason_ids"]) if "reason_ids" in data else None
        with _state_conflicts():
            issue = issue_edit(
                issue=issue, by=request_viewer(request), reasons=reasons, why=data.get("why", ""),
                **fields,
            )  # fmt: skip
        return Response(_out(issue))


class IssueAssignApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(MANAGE_ISSUES)]

    @extend_schema(
        parameters=ISSUE_PATH,
        request=IssueAssignInputSerializer,
        responses={200: IssueOutputSerializer, **api_errors(400, 403, 404, conflict=True)},
        summary="Assign or reassign an issue",
        description="The owner must be an active manager (409). A new or triaged issue becomes "
        "assigned. 409 for a closed, won't-fix or merged issue.",
    )
    def post(self, request: Request, issue_id: int) -> Response:
        issue = _managed(request, issue_id)
        data = validated_data(IssueAssignInputSerializer, request)
        owner = _user(data["owner_id"], "owner_id")
        assert owner is not None
        with _state_conflicts():
            issue = issue_assign(
                issue=issue, owner=owner, by=request_viewer(request), why=data.get("why", "")
            )
        return Response(_out(issue))


class IssueTransitionApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(MANAGE_ISSUES)]

    @extend_schema(
        parameters=ISSUE_PATH,
        request=IssueTransitionInputSerializer,
        responses={200: IssueOutputSerializer, **api_errors(400, 403, 404, conflict=True)},
        summary="Change an issue's status",
        description="Only legal moves (new → triaged → assigned → in progress → fixed → "
        "verified → closed; won't fix by the owner or department head, with why; fixed or "
        "verified reopen to in progress, with why). 409 says which moves are allowed.",
    )
    def post(self, request: Request, issue_id: int) -> Response:
        issue = _managed(request, issue_id)
        data = validated_data(IssueTransitionInputSerializer, request)
        with _state_conflicts():
            issue = issue_transition(
                issue=issue, to=data["to"], by=request_viewer(request), why=data.get("why", "")
            )
        return Response(_out(issue))


class IssueMergeApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(MANAGE_ISSUES)]

    @extend_schema(
        parameters=ISSUE_PATH,
        request=IssueMergeInputSerializer,
        responses={200: IssueOutputSerializer, **api_errors(400, 403, 404, conflict=True)},
        summary="Merge this issue into another",
        description="This issue is the duplicate: its evidence, flags and reporters move to the "
        "survivor (a source already there is not doubled) and it points to the survivor. The "
        "caller must run both issues (404 or 403). Answers with the survivor.",
    )
    def post(self, request: Request, issue_id: int) -> Response:
        duplicate = _managed(request, issue_id)
        data = validated_data(IssueMergeInputSerializer, request)
        survivor = _managed(request, data["survivor_id"])
        with _state_conflicts():
            survivor = issue_merge(
                duplicate=duplicate, survivor=survivor, by=request_viewer(request),
                why=data.get("why", ""),
            )  # fmt: skip
        return Response(_out(survivor))


class IssueEvidenceListApi(ListAPIView):
    serializer_class = EvidenceOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    permission_classes = [HasCapability(VIEW_ISSUES)]
    filter_backends: list = []

    def get_queryset(self):
        issue = _visible(self.request, self.kwargs["issue_id"])
        return issue.evidence.order_by("-occurred_at", "-id")

    @extend_schema(
        parameters=ISSUE_PATH,
        responses={200: EvidenceOutputSerializer(many=True), **api_errors(400, 404)},
        summary="An issue's evidence",
        description="The newest first.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class IssueEvidenceAddApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(MANAGE_ISSUES)]

    @extend_schema(
        parameters=ISSUE_PATH,
        request=EvidenceAddInputSerializer,
        responses={
            201: EvidenceOutputSerializer,
            200: EvidenceOutputSerializer,
            **api_errors(400, 403, 404, conflict=True),
        },
        summary="Add a contact or a feedback item as evidence",
        description="Once per issue (200 when it was there already). The caller must read the "
        "contact or the feedback item (404 otherwise). 409 for a merged, closed or won't-fix "
        "issue.",
    )
    def post(self, request: Request, issue_id: int) -> Response:
        issue = _managed(request, issue_id)
        data = validated_data(EvidenceAddInputSerializer, request)
        viewer = request_viewer(request)
        if not issue.is_open:
            raise Conflict("The issue is closed, won't be fixed or was merged.")
        if "contact_id" in data:
            source: Any = contact_list_visible(viewer=viewer).filter(pk=data["contact_id"]).first()
        else:
            source = (
                feedback_list_visible(viewer=viewer).filter(pk=data["feedback_item_id"]).first()
            )
        if source is None:
            raise Http404
        with _state_conflicts():
            evidence, added = evidence_add(
                issue=issue, source=source, by=viewer, why=data.get("why", "")
            )
        return Response(
            EvidenceOutputSerializer(evidence).data,
            status=status.HTTP_201_CREATED if added else status.HTTP_200_OK,
        )


class IssueEvidenceRemoveApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(MANAGE_ISSUES)]

    @extend_schema(
        parameters=[*ISSUE_PATH, OpenApiParameter("evidence_id", OpenApiTypes.INT, "path")],
        request=EvidenceRemoveInputSerializer,
        responses={204: None, **api_errors(400, 403, 404, conflict=True)},
        summary="Remove a piece of evidence",
        description="Added by mistake: unlinks it and recounts first and last seen.",
    )
    def post(self, request: Request, issue_id: int, evidence_id: int) -> Response:
        issue = _managed(request, issue_id)
        data = validated_data(EvidenceRemoveInputSerializer, request)
        evidence = IssueEvidence.objects.filter(issue=issue, pk=evidence_id).first()
        if evidence is None:
            raise Http404
        with _state_conflicts():
            evidence_remove(evidence=evidence, by=request_viewer(request), why=data.get("why", ""))
        return Response(status=status.HTTP_204_NO_CONTENT)
