"""The flag operations of the REST API: suggestions for a contact, "me too", propose a new
issue, and my flags. One class per operation; the same selectors, services and scope as the
contact page's panel (a contact the caller cannot see is a 404, like a missing one)."""

from typing import Any

from django.core.validators import RegexValidator
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.apis.common import StrictIntegerField, TextField
from contacts.models import Contact
from loops.access import FLAG_CONTACTS
from loops.flags.selectors import (
    PER_DAY_DAYS,
    contact_for_flagging,
    flag_candidates,
    flag_suggestions,
    flags_of,
)
from loops.flags.services import MAX_NOTE, Flagged, flag_me_too, flag_propose
from loops.models import Flag
from loops.services.issues import MAX_DESCRIPTION, MAX_TITLE
from voc.core.api import (
    StrictCharField,
    StrictLimitOffsetPagination,
    api_errors,
    validated_data,
)
from voc.core.permissions import HasCapability
from voc.people.access import request_viewer

ID_MAX = 2**63 - 1


class FlagIssueSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    wont_fix_reason = serializers.CharField()
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)

    class Meta:
        ref_name = "FlagIssue"


class SuggestionSerializer(serializers.Serializer[Any]):
    issue = FlagIssueSerializer()
    reason_ids = serializers.ListField(child=serializers.IntegerField())
    score = serializers.FloatField(help_text="Higher is more alike; comparable within a list.")
    shares_reason = serializers.BooleanField(help_text="It explains the contact's reason.")
    per_day = serializers.FloatField(
        help_text=f"How many a day are like this: its contacts over {PER_DAY_DAYS} days, per day."
    )
    is_evidence = serializers.BooleanField(help_text="The contact is evidence on it already.")
    flagged_by_me = serializers.BooleanField()

    class Meta:
        ref_name = "FlagSuggestion"


class MeTooInputSerializer(serializers.Serializer[Any]):
    issue_id = StrictIntegerField(min_value=1, max_value=ID_MAX)
    note = TextField(max_length=MAX_NOTE, help_text="Redacted before it is stored.")

    class Meta:
        ref_name = "FlagMeTooInput"


# Some text that is not only blank, where "blank" is Python's idea of whitespace (which
# str.strip() and the issue service use): it holds the record separators \x1c-\x1f and \x85
# that a JSON Schema's \s does not, so they are named, or a title of "\x1e" would match the
# documented pattern and still be refused.
SOME_TITLE = r"^[^\x00]*[^\x00\s\x1c-\x1f\x85][^\x00]*$"


class TitleField(StrictCharField):
    """The new issue's title as sent, with some text in it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            trim_whitespace=False,
            required=True,
            allow_blank=False,
            max_length=MAX_TITLE,
            validators=[RegexValidator(SOME_TITLE, message="Write something here.")],
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise serializers.ValidationError("Remove the invalid characters.") from None
        return value


class ProposeInputSerializer(serializers.Serializer[Any]):
    title = TitleField()
    description = TextField(max_length=MAX_DESCRIPTION)
    note = TextField(max_length=MAX_NOTE, help_text="Redacted before it is stored.")

    class Meta:
        ref_name = "FlagProposeInput"


class FlagSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    contact = serializers.IntegerField(source="contact_id")
    issue = FlagIssueSerializer()
    proposed = serializers.BooleanField(help_text="This flag proposed the issue.")
    note = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Flag"


class FlaggedSerializer(serializers.Serializer[Any]):
    flag = FlagSerializer()
    created = serializers.BooleanField(help_text="A new flag; false: you had flagged it already.")
    evidence_added = serializers.BooleanField(
        help_text="The contact became evidence; false: it counted already (once per issue)."
    )

    class Meta:
        ref_name = "Flagged"


def _contact(request: Request, contact_id: int) -> Contact:
    contact = contact_for_flagging(viewer=request_viewer(request), contact_id=contact_id)
    if contact is None:
        raise Http404
    return contact


def _flagged_body(flagged: Flagged) -> dict[str, Any]:
    return FlaggedSerializer(
        {
            "flag": flagged.flag,
            "created": flagged.created,
            "evidence_added": flagged.evidence_added,
        }
    ).data


class FlagSuggestionsApi(APIView):
    permission_classes = [HasCapability(FLAG_CONTACTS)]

    @extend_schema(
        responses={200: SuggestionSerializer(many=True), **api_errors(404)},
        summary="Issues like a contact",
        description="The open issues the contact most likely belongs to, best first (at most "
        "five): ranked by how alike the contact's words are to each issue's title, description "
        "and evidence, raised for issues that explain its reason. Only issues the caller may be "
        "shown for this contact (docs/loops-flags.md). 404: a contact the caller cannot see.",
    )
    def get(self, request: Request, contact_id: int) -> Response:
        contact = _contact(request, contact_id)
        suggestions = flag_suggestions(viewer=request_viewer(request), contact=contact)
        body = [
            {
                "issue": s.issue,
                "reason_ids": sorted(reason.pk for reason in s.issue.reasons.all()),
                "score": round(s.score, 4),
                "shares_reason": s.shares_reason,
                "per_day": round(s.per_day, 4),
                "is_evidence": s.is_evidence,
                "flagged_by_me": s.flagged_by_me,
            }
            for s in suggestions
        ]
        return Response(SuggestionSerializer(body, many=True).data)


class FlagMeTooApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(FLAG_CONTACTS)]

    @extend_schema(
        request=MeTooInputSerializer,
        responses={
            201: OpenApiResponse(FlaggedSerializer, description="Flagged."),
            200: OpenApiResponse(
                FlaggedSerializer, description="You had flagged it onto this issue already."
            ),
            **api_errors(400, 404, conflict=True),
        },
        summary="Me too: this contact is that issue",
        description="Flags the contact onto an open issue and adds it as evidence (once per "
        "issue, however many people flag it). 404: a contact the caller cannot see, or an issue "
        "that is not among those they may be shown for it. 409: the issue was merged (its "
        "survivor is named), closed or won't be fixed.",
    )
    def post(self, request: Request, contact_id: int) -> Response:
        contact = _contact(request, contact_id)
        data = validated_data(MeTooInputSerializer, request)
        viewer = request_viewer(request)
        issue = flag_candidates(viewer=viewer, contact=contact).filter(pk=data["issue_id"]).first()
        if issue is None:
            raise Http404
        flagged = flag_me_too(contact=contact, issue=issue, by=viewer, note=data.get("note", ""))
        return Response(
            _flagged_body(flagged),
            status=status.HTTP_201_CREATED if flagged.created else status.HTTP_200_OK,
        )


class FlagProposeApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(FLAG_CONTACTS)]

    @extend_schema(
        request=ProposeInputSerializer,
        responses={
            201: OpenApiResponse(FlaggedSerializer, description="Proposed: a new issue."),
            **api_errors(400, 404, conflict=True),
        },
        summary="Propose a new issue from a contact",
        description="Opens a new issue (status new, the contact's reason, its department the "
        "reason's) with the contact as its evidence and the caller's flag. 404: a contact the "
        "caller cannot see. 409: the caller proposed an issue from this contact already and it "
        "is still open (named).",
    )
    def post(self, request: Request, contact_id: int) -> Response:
        contact = _contact(request, contact_id)
        data = validated_data(ProposeInputSerializer, request)
        flagged = flag_propose(
            contact=contact,
            title=data["title"],
            description=data.get("description", ""),
            note=data.get("note", ""),
            by=request_viewer(request),
        )
        return Response(_flagged_body(flagged), status=status.HTTP_201_CREATED)


class MyFlagsApi(ListAPIView[Flag]):
    serializer_class = FlagSerializer
    pagination_class = StrictLimitOffsetPagination
    permission_classes = [HasCapability(FLAG_CONTACTS)]
    filter_backends: list[Any] = []

    @extend_schema(
        responses={200: FlagSerializer(many=True), **api_errors(400)},
        summary="My flags",
        description="The contacts the caller flagged, newest first, with the state of each "
        "issue (and the won't-fix reason, or the issue it was merged into).",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return flags_of(user=request_viewer(self.request))
