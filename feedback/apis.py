"""The note autosave endpoint of the live note page (and of any client that takes notes)."""

import re
import uuid

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.apis.common import StrictIntegerField, TextField, WhenField
from feedback import selectors
from feedback.access import RUN_SESSIONS
from feedback.models import SessionNote
from feedback.services.sessions import MAX_NOTE, session_note_add
from voc.core.api import api_errors, validated_data
from voc.core.permissions import HasCapability

UUID_TEXT = r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
MAX_LINKED_CONTACTS = 20


class StrictUUIDField(serializers.UUIDField):
    """A UUID written as text in its usual 8-4-4-4-12 form (not a number, not braces)."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(UUID_TEXT, data):
            self.fail("invalid", value=str(data)[:40])
        return uuid.UUID(data)


class NoteInputSerializer(serializers.Serializer):
    client_id = StrictUUIDField(
        help_text="Made by the client when the note is typed: sending it again stores nothing new."
    )
    kind = serializers.ChoiceField(choices=SessionNote.Kind.choices)
    text = TextField(max_length=MAX_NOTE, nonblank=True, required=True)
    noted_at = WhenField(help_text="When the note was typed (within the last 7 days).")
    contact_ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=2**63 - 1),
        max_length=MAX_LINKED_CONTACTS,
        required=False,
        help_text="Ids of the contacts observed.",
    )

    class Meta:
        ref_name = "SessionNoteInput"


class NoteOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client_id = serializers.UUIDField()
    kind = serializers.CharField()
    text = serializers.CharField()
    noted_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    contact_ids = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        ref_name = "SessionNote"


class SessionNoteCreateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(RUN_SESSIONS)]

    @extend_schema(
        request=NoteInputSerializer,
        responses={
            201: OpenApiResponse(NoteOutputSerializer, description="Stored."),
            200: OpenApiResponse(
                NoteOutputSerializer,
                description="A note with this client_id was stored before: nothing changed.",
            ),
            **api_errors(400, 404, conflict=True),
        },
        summary="Save a side-by-side note",
        description="The executive and the rep of a running (or ended) session add notes; "
        "each note is stored once per client_id, so a client may send it again until it hears "
        "back. Text is redacted before it is stored. A noted_at more than a week old or in the "
        "future (a clock far off) is replaced by the time the note arrived. 409: the session is "
        "not started or was cancelled, a contact id does not exist, or the client_id is "
        "another note's.",
    )
    def post(self, request, session_id: int):
        try:
            # One read checks the scope and locks the session for the note's transaction.
            with transaction.atomic():
                session = selectors.session_get_visible_locked(
                    viewer=request.user, session_id=session_id
                )
                if session is None:
                    raise Http404
                data = validated_data(NoteInputSerializer, request)
                saved = session_note_add(
                    session=session,
                    client_id=data["client_id"],
                    kind=data["kind"],
                    text=data["text"],
                    noted_at=data["noted_at"],
                    contact_ids=data.get("contact_ids", []),
                    by=request.user,
                    locked=True,
                )
        except PermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error
        note = saved.note
        contact_ids = saved.contact_ids
        if contact_ids is None:  # a note stored before: its links as stored
            contact_ids = sorted(note.contacts.values_list("id", flat=True))
        body = {
            "id": note.id,
            "client_id": note.client_id,
            "kind": note.kind,
            "text": note.text,
            "noted_at": note.noted_at,
            "received_at": note.received_at,
            "contact_ids": contact_ids,
        }
        return Response(
            NoteOutputSerializer(body).data,
            status=status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK,
        )
