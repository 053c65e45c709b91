"""Full-text search of message texts in the contacts REST API (contacts.search)."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from contacts.access import VIEW_CONTACTS
from contacts.apis.common import MessageDirectionField, TextField
from contacts.models import Channel
from contacts.search import (
    MAX_OFFSET,
    MAX_QUERY_LENGTH,
    SearchFilters,
    SearchQueryError,
    day_bounds,
    message_search,
)
from voc.core.api import StrictLimitOffsetPagination, api_errors, flatten_errors
from voc.core.permissions import HasCapability

_ID = re.compile(r"-?[0-9]+")
_ID_MIN, _ID_MAX = -(2**63), 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class QueryIdField(serializers.Field):
    """An id in the query string: digits only. An unknown or unseen id (or one no key can
    hold) matches nothing, so ids outside the caller's scope can't be probed."""

    default_error_messages = {"invalid": "Enter a whole number."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or not _ID.fullmatch(data):
            self.fail("invalid")
        value = int(data) if len(data) <= 21 else _ID_MAX + 1
        return value if _ID_MIN <= value <= _ID_MAX else 0  # 0: no row has it

    def to_representation(self, value):
        return value


class MessageSearchInputSerializer(serializers.Serializer):
    q = TextField(
        max_length=MAX_QUERY_LENGTH,
        nonblank=True,
        required=True,
        help_text='Words to find. "Quoted words" must be next to each other, `or` between '
        "words finds either, `-word` leaves out texts with it. English word forms match "
        "(charge, charged, charging); very common words (the, and) are ignored.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    direction = MessageDirectionField(required=False, help_text="Of the message.")
    reason = QueryIdField(required=False, help_text="A reason, or a parent and its reasons.")
    team = QueryIdField(required=False)
    since = serializers.DateField(
        required=False, help_text="Contacts on or after this day (reporting time zone)."
    )
    until = serializers.DateField(
        required=False, help_text="Contacts on or before this day (reporting time zone)."
    )

    class Meta:
        ref_name = "MessageSearchInput"

    def validate(self, attrs):
        # A parameter given blank ("?team=") is refused, not taken for "no filter" (DRF drops
        # blank query values of optional fields), as every list's filters do.
        blank = {
            name: ["Give a value, or leave the parameter out."]
            for name in self.fields
            if any(not value.strip() for value in self.initial_data.getlist(name, []))
        }
        if blank:
            raise serializers.ValidationError(blank)
        return attrs


class MessageSearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="message.id")
    contact = serializers.IntegerField(source="message.contact_id")
    position = serializers.IntegerField(source="message.position")
    direction = MessageDirectionField(source="message.direction")
    author = serializers.CharField(source="message.author")
    sent_at = serializers.DateTimeField(source="message.sent_at", allow_null=True)
    occurred_at = serializers.DateTimeField(
        source="message.contact.occurred_at", help_text="When the contact happened."
    )
    channel = serializers.ChoiceField(choices=Channel.choices, source="message.contact.channel")
    team = serializers.IntegerField(source="message.contact.team_id", allow_null=True)
    reason = serializers.IntegerField(source="message.contact.reason_id", allow_null=True)
    reason_path = serializers.SerializerMethodField()
    highlight = serializers.CharField(
        source="highlight_html",
        help_text="An excerpt of the text as HTML: the text escaped, the matches in <mark>.",
    )

    class Meta:
        ref_name = "MessageSearchHit"

    def get_reason_path(self, hit) -> str | None:
        reason = hit.message.contact.reason
        return reason.path if reason else None


class MessageSearchResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="How many messages match: exact up to 10,000, an estimate beyond "
        "(see count_is_estimate)."
    )
    count_is_estimate = serializers.BooleanField()
    notice = serializers.CharField(
        help_text="Why nothing was searched (e.g. only very common words); blank otherwise."
    )
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MessageSearchHitSerializer(many=True)

    class Meta:
        ref_name = "MessageSearchResult"


class SearchPagination(StrictLimitOffsetPagination):
    """Limit and offset as every list takes them; the offset at most MAX_OFFSET."""

    def get_offset(self, request):
        offset = super().get_offset(request)
        if offset > MAX_OFFSET:
            message = f"Start at most {MAX_OFFSET} results in; narrow the search instead."
            raise exceptions.ValidationError({self.offset_query_param: [message]})
        return offset


class MessageSearchApi(APIView):
    """Find messages by their words, newest contact first, within the caller's scope."""

    permission_classes = [HasCapability(VIEW_CONTACTS)]

    @extend_schema(
        parameters=[
            MessageSearchInputSerializer,
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1},
                description="Results per page (default 50). At most 200; larger values are capped.",
            ),
            OpenApiParameter(
                "offset",
                {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
                description=f"Results to skip; at most {MAX_OFFSET}.",
            ),
        ],
        responses={200: MessageSearchResultSerializer, **api_errors(400)},
        summary="Search message texts",
        description="Messages of the contacts the caller may see (reps their team's, managers "
        "their department's and teams', executives and admins all) whose text matches `q`, "
        "newest contact first and in conversation order within a contact, each with a "
        "highlighted excerpt. `count` is exact up to 10,000 matches and an estimate beyond "
        "(`count_is_estimate`). A query of only very common words searches nothing and says "
        "so in `notice`.",
    )
    def get(self, request):
        serializer = MessageSearchInputSerializer(data=request.query_params)
        if not serializer.is_valid():
            raise exceptions.ValidationError(flatten_errors(serializer.errors))
        data = serializer.validated_data
        paginator = SearchPagination()
        limit = paginator.get_limit(request)
        offset = paginator.get_offset(request)
        since, until = day_bounds(data.get("since"), data.get("until"))
        filters = SearchFilters(
            since=since,
            until=until,
            channel=data.get("channel", ""),
            reason_id=data.get("reason"),
            team_id=data.get("team"),
            direction=data.get("direction", ""),
        )
        try:
            result = message_search(
                user=request.user, query=data["q"], filters=filters, limit=limit, offset=offset
            )
        except SearchQueryError as error:
            raise exceptions.ValidationError({"q": [str(error)]}) from None
        return Response(
            MessageSearchResultSerializer(
                {
                    "count": result.total,
                    "count_is_estimate": result.total_is_estimate,
                    "notice": result.notice,
                    "next": _link(request, limit, offset + limit) if result.has_more else None,
                    "previous": _link(request, limit, max(0, offset - limit)) if offset else None,
                    "results": result.rows,
                }
            ).data
        )


def _link(request, limit: int, offset: int) -> str | None:
    if offset > MAX_OFFSET:
        return None
    url = replace_query_param(request.build_absolute_uri(), "limit", limit)
    if offset == 0:
        return remove_query_param(url, "offset")
    return replace_query_param(url, "offset", offset)
