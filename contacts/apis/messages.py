"""The messages operations of the contacts REST API."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import selectors
from contacts.apis.common import CanEditContacts
from contacts.apis.contacts import MessageInputSerializer, _contact_for_write
from contacts.apis.filters import MessageFilter
from contacts.apis.serializers import MessageOutputSerializer
from contacts.models import Message
from contacts.services.messages import message_append
from voc.core.api import StrictLimitOffsetPagination, api_errors, validated_data

# --- messages -----------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(responses={200: MessageOutputSerializer, **api_errors(400, 404)})
)
class MessageListApi(ListAPIView):
    """A contact's messages in order; the contact must be one the caller may see."""

    serializer_class = MessageOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = MessageFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no contact
            return Message.objects.none()
        contact = selectors.contact_get_visible(
            viewer=self.request.user, contact_id=self.kwargs["contact_id"]
        )
        if contact is None:
            raise Http404
        return Message.objects.filter(contact=contact).order_by("position", "id")


class MessageCreateApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [CanEditContacts]

    @extend_schema(
        request=MessageInputSerializer,
        responses={
            201: MessageOutputSerializer,
            **api_errors(400, 404, conflict=True),
        },
        summary="Add a message to a contact",
        description="Appended after the last message; the text is redacted before it is "
        "stored and the contact's sentiment is scored again.",
    )
    def post(self, request, contact_id: int):
        contact = _contact_for_write(request, contact_id)
        data = validated_data(MessageInputSerializer, request)
        message = message_append(contact_id=contact.id, by=request.user, **data)
        return Response(MessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)
