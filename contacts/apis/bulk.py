"""Bulk ingest of contacts through the contacts REST API (JSON or NDJSON).

The body readers (``json_rows``, ``ndjson_rows``), their refusals and ``row_error`` are shared
with feedback's bulk API, which reads its batches the same way."""

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.apis.common import INGEST_AUTHENTICATION, IsAdminRole, PayloadTooLarge
from contacts.authentication import HasIngestToken, IngestTokenRateThrottle, ingest_token_of
from contacts.ingest.service import MAX_BATCH, RejectedRow, contacts_ingest, parse_options
from voc.core.api import ErrorSerializer, api_errors
from voc.core.audit import SystemActor

# --- bulk ingest --------------------------------------------------------------------------

NDJSON = "application/x-ndjson"
NDJSON_TYPES = {NDJSON, "application/jsonl", "application/jsonlines"}
DEFAULT_MAX_BYTES = 100 * 1024 * 1024


def bulk_max_bytes() -> int:
    return getattr(settings, "VOC_BULK_MAX_BYTES", DEFAULT_MAX_BYTES)


class NDJSONParser(BaseParser):
    """Declares NDJSON for the schema and content negotiation; the bulk view reads the body
    line by line itself."""

    media_type = NDJSON

    def parse(self, stream, media_type=None, parser_context=None):  # pragma: no cover
        raise exceptions.ParseError("Read NDJSON bodies line by line.")


class Unreadable:
    """Stands in for a row that could not be read, so later rows keep their index. Ingestion
    rejects it as "not an object"; the view reports the real reason."""

    __slots__ = ("field", "reason")

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason


class TooManyRows(Exception):
    pass


def _read_body(stream, limit: int) -> bytes:
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit // (1024 * 1024)} MB.")
    return body


def json_rows(stream, limit: int) -> list:
    body = _read_body(stream, limit)
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        rows = json.loads(body)
    except (ValueError, RecursionError):
        raise exceptions.ParseError(
            "The body is not valid JSON; send an array of contact objects."
        ) from None
    if not isinstance(rows, list):
        raise exceptions.ParseError("Send a JSON array of contact objects.")
    if len(rows) > MAX_BATCH:
        raise PayloadTooLarge(f"Send at most {MAX_BATCH:,} rows a request ({len(rows):,} sent).")
    if not rows:
        raise exceptions.ParseError("The array is empty; send at least one row.")
    return rows  # parse_row checks each (text that can't be stored, times out of range)


def ndjson_rows(stream, limit: int, lines: list[int]) -> Iterator:
    """The rows of an NDJSON body, one a line; blank lines are skipped. Fills ``lines`` with
    the line number of each row. A line that isn't JSON becomes an Unreadable row.

    The body is read in one go (within ``limit``, as a JSON body is) and cut at each b"\\n":
    reading it a line at a time cost more than decoding the lines (three layers of Python
    ``readline`` a line under the WSGI handler)."""
    body = _read_body(stream, limit)
    cut = body.split(b"\n")
    last = len(cut)
    for number, raw in enumerate(cut, start=1):
        if number < last:
            raw += b"\n"  # as a line read from the stream ends (it matters to json.loads)
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        if len(lines) >= MAX_BATCH:
            raise TooManyRows
        lines.append(number)
        try:
            row = json.loads(raw)
        except UnicodeDecodeError:
            yield Unreadable("row", "is not UTF-8 text")
            continue
        except (ValueError, RecursionError):
            yield Unreadable("row", "is not valid JSON")
            continue
        yield row


class BulkResultSerializer(serializers.Serializer):
    class RowErrorSerializer(serializers.Serializer):
        index = serializers.IntegerField(help_text="The row's position, from 0.")
        line = serializers.IntegerField(
            required=False, help_text="NDJSON only: the row's line number, from 1."
        )
        field = serializers.CharField()
        reason = serializers.CharField()

        class Meta:
            ref_name = "BulkRowError"

    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    # A declared field: DRF's metaclass takes it off the class, leaving Serializer.errors be.
    errors = RowErrorSerializer(many=True)  # type: ignore[assignment]

    class Meta:
        ref_name = "BulkResult"


class BulkRowSerializer(serializers.Serializer):
    """Documents one bulk row; rows are checked one by one by ingestion, not here."""

    class Meta:
        ref_name = "BulkRow"


class BulkRowSchema(OpenApiSerializerExtension):
    target_class = "contacts.apis.bulk.BulkRowSerializer"

    def map_serializer(self, auto_schema, direction):
        # Any JSON value is accepted as a row: one that isn't a valid contact is reported in
        # `errors` with its index, while the other rows are stored.
        return {
            "description": "A contact in the fields of ContactRow, plus `source` when an admin "
            "sends it (ignored with an ingest token, whose source is used). Rows are checked "
            "one by one: a row that isn't a valid contact is reported in `errors`."
        }


class BulkSchema(AutoSchema):
    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
            content = body["content"]["application/json"]
            content["schema"]["minItems"] = 1
            content["examples"] = {
                "TwoRows": {
                    "summary": "Two rows, the second not a contact",
                    "value": BULK_EXAMPLE_ROWS,
                }
            }
        return body


BULK_EXAMPLE_ROWS = [
    {
        "external_id": "call-1001",
        "channel": "phone",
        "occurred_at": "2026-11-23T14:05:00Z",
        "customer_ref": "CRM-42",
        "reason": "Billing › Double charge",
        "text": "I was charged twice this month.",
    },
    {"external_id": "call-1002", "channel": "fax"},
]


class ContactBulkApi(APIView):
    authentication_classes = INGEST_AUTHENTICATION
    permission_classes = [HasIngestToken | IsAdminRole]
    throttle_classes = [IngestTokenRateThrottle]
    parser_classes = [JSONParser, NDJSONParser]
    schema = BulkSchema()

    @extend_schema(
        request={
            "application/json": BulkRowSerializer(many=True),
            NDJSON: OpenApiTypes.STR,
        },
        responses={
            200: BulkResultSerializer,
            **api_errors(400, 429),
            413: OpenApiResponse(
                ErrorSerializer, description=f"More than {MAX_BATCH:,} rows, or too large a body."
            ),
            415: OpenApiResponse(ErrorSerializer, description="Neither JSON nor NDJSON."),
        },
        examples=[
            OpenApiExample(
                "One stored, one rejected",
                value={
                    "created": 1,
                    "updated": 0,
                    "unchanged": 0,
                    "rejected": 1,
                    "errors": [
                        {"index": 1, "field": "channel", "reason": "must be one of phone, …"}
                    ],
                },
                response_only=True,
            ),
        ],
        summary="Send up to 10,000 contacts",
        description=(
            "A system with an ingest token (`Authorization: Ingest <key>`; rows are stored "
            "under the token's source) or an admin (rows carry `source`). The body is a JSON "
            f"array (`application/json`) or one JSON object a line (`{NDJSON}`; blank lines "
            f"are skipped), with at most {MAX_BATCH:,} rows. Rows are idempotent on (source, "
            "external_id): sending a batch again creates nothing twice and updates what "
            "changed. Each bad row is reported with its index (and line, for NDJSON), field "
            "and reason, never its value; the good rows are stored, all in one transaction."
        ),
    )
    def post(self, request):
        return bulk_ingest_response(request, ingest=contacts_ingest)


def bulk_ingest_response(
    request, *, ingest: Callable[..., Any], default_source: str = ""
) -> Response:
    """Read a bulk body (a JSON array or NDJSON, within the size and row limits), hand its rows
    to ``ingest(rows=, options=, by=)`` and answer its counts with one error per rejected row
    (index, line for NDJSON, field, reason). Contacts' and feedback's bulk APIs share it.
    ``default_source``: the source of an admin's rows that name none (ingest tokens fix it)."""
    token = ingest_token_of(request)
    limit = bulk_max_bytes()
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit // (1024 * 1024)} MB.")
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type not in {"application/json", *NDJSON_TYPES}:
        raise exceptions.UnsupportedMediaType(media_type or "no content type")
    stream = request.stream
    if stream is None:
        raise exceptions.ParseError("The body is empty; send at least one row.")
    options = parse_options(source=token.source) if token else parse_options()
    lines: list[int] = []
    rows: Any  # a list (JSON) or a generator that fills ``lines`` (NDJSON)
    if media_type == "application/json":
        rows = json_rows(stream, limit)
    else:
        rows = ndjson_rows(stream, limit, lines)
    unreadable: dict[int, Unreadable] = {}

    def noting_unreadable():
        for index, row in enumerate(rows):
            if isinstance(row, Unreadable):
                unreadable[index] = row
            elif (
                default_source and token is None and isinstance(row, dict) and not row.get("source")
            ):
                row = {**row, "source": default_source}
            yield row

    try:
        sender = SystemActor(f"ingest:{token.source}") if token else request.user
        result = ingest(rows=noting_unreadable(), options=options, by=sender)
    except TooManyRows:
        raise PayloadTooLarge(f"Send at most {MAX_BATCH:,} rows a request.") from None
    total = len(lines) if media_type in NDJSON_TYPES else len(rows)
    if total == 0:
        raise exceptions.ParseError("The body holds no rows; send at least one.")
    errors = [row_error(rejected, unreadable, lines) for rejected in result.rejected]
    return Response({**result.counts(), "errors": errors})


def row_error(rejected: RejectedRow, unreadable: dict, lines: list[int]) -> dict:
    error = rejected.as_dict()
    if rejected.index in unreadable:
        error["field"] = unreadable[rejected.index].field
        error["reason"] = unreadable[rejected.index].reason
    if lines:
        error["line"] = lines[rejected.index]
    return error
