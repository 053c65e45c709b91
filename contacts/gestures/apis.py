"""The make-it-right operations of the REST API: a contact's gestures (list, give) and the
approver's one click (approve, decline). Refusals answer 4xx with a message, never a 500."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import selectors as contact_selectors
from contacts.apis.common import TextField
from contacts.gestures import selectors
from contacts.gestures.access import DECIDE_GESTURES, GIVE_GESTURES
from contacts.gestures.services import (
    MAX_NOTE,
    MAX_REASON,
    gesture_approve,
    gesture_decline,
    gesture_record,
)
from contacts.models import Gesture
from voc.core.api import StrictCharField, StrictLimitOffsetPagination, api_errors, validated_data
from voc.core.permissions import HasCapability, IsActiveUser

AMOUNT = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"


@extend_schema_field({"type": "string", "pattern": AMOUNT, "example": "12.50"})
class AmountField(StrictCharField):
    """An amount as text ("12.50"): not negative, at most two decimals (no float rounding)."""

    def __init__(self, **kwargs):
        from django.core.validators import RegexValidator

        message = "Enter an amount such as 12.50 (not negative, at most two decimals)."
        super().__init__(validators=[RegexValidator(AMOUNT, message=message)], **kwargs)


class GestureInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Gesture.Kind.choices)
    value = AmountField(
        help_text="In the business currency. 0 only for a call back from a specialist."
    )
    note = TextField(max_length=MAX_NOTE, help_text="Redacted before it is stored.")

    class Meta:
        ref_name = "GestureInput"


class DecisionInputSerializer(serializers.Serializer):
    reason = TextField(max_length=MAX_REASON, help_text="Optional; redacted before it is stored.")

    class Meta:
        ref_name = "GestureDecisionInput"


class GestureOutputSerializer(serializers.ModelSerializer):
    value = serializers.DecimalField(max_digits=12, decimal_places=2)
    given_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Gesture
        ref_name = "Gesture"
        fields = [
            "id",
            "contact",
            "kind",
            "value",
            "currency",
            "note",
            "state",
            "given_by",
            "given_by_name",
            "team",
            "given_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]

    def get_given_by_name(self, gesture: Gesture) -> str:
        return str(gesture.given_by)


def _refused(error: PermissionDenied) -> exceptions.PermissionDenied:
    return exceptions.PermissionDenied(str(error) or None)


class GestureListApi(ListAPIView):
    """A contact's gestures (GET) and giving one (POST)."""

    serializer_class = GestureOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filter_backends: list = []
    parser_classes = [JSONParser]

    def get_permissions(self):
        if self.request.method == "POST":
            return [HasCapability(GIVE_GESTURES)()]
        return [IsActiveUser()]

    def _contact(self):
        contact = contact_selectors.contact_get_visible(
            viewer=self.request.user, contact_id=self.kwargs["contact_id"]
        )
        if contact is None:
            raise Http404
        return contact

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no contact
            return Gesture.objects.none()
        return (
            Gesture.objects.filter(contact=self._contact())
            .select_related("given_by")
            .order_by("-given_at", "-id")
        )

    @extend_schema(
        responses={200: GestureOutputSerializer(many=True), **api_errors(400, 404)},
        summary="A contact's goodwill gestures",
        description="Newest first; the contact must be one the caller may see.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=GestureInputSerializer,
        responses={201: GestureOutputSerializer, **api_errors(400, 404, conflict=True)},
        summary="Give a goodwill gesture on a contact",
        description="Granted at once within the caller's allowance (per gesture and per "
        "month, business settings); above it, the gesture is stored waiting for approval "
        "(state `pending`). 409: the contact has no customer, or the customer was erased.",
    )
    def post(self, request, contact_id: int):
        contact = self._contact()
        data = validated_data(GestureInputSerializer, request)
        try:
            gesture = gesture_record(
                contact=contact,
                kind=data["kind"],
                value=data["value"],
                note=data.get("note", ""),
                by=request.user,
            )
        except PermissionDenied as error:
            raise _refused(error) from error
        return Response(GestureOutputSerializer(gesture).data, status=status.HTTP_201_CREATED)


class _DecisionApi(APIView):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability(DECIDE_GESTURES)]
    service = staticmethod(gesture_approve)

    def post(self, request, gesture_id: int):
        gesture = selectors.gesture_get_visible(viewer=request.user, gesture_id=gesture_id)
        if gesture is None:
            raise Http404
        data = validated_data(DecisionInputSerializer, request)
        try:
            gesture = self.service(gesture=gesture, by=request.user, reason=data.get("reason", ""))
        except PermissionDenied as error:
            raise _refused(error) from error
        return Response(GestureOutputSerializer(gesture).data)


_DECISION_DOC = (
    "The giver's team lead or department head, an executive or an admin decides a waiting "
    "gesture; nobody decides their own (403). 409: the gesture was decided before."
)


class GestureApproveApi(_DecisionApi):
    service = staticmethod(gesture_approve)

    @extend_schema(
        request=DecisionInputSerializer,
        responses={200: GestureOutputSerializer, **api_errors(400, 404, conflict=True)},
        summary="Approve a waiting goodwill gesture",
        description=_DECISION_DOC,
    )
    def post(self, request, gesture_id: int):
        return super().post(request, gesture_id)


class GestureDeclineApi(_DecisionApi):
    service = staticmethod(gesture_decline)

    @extend_schema(
        request=DecisionInputSerializer,
        responses={200: GestureOutputSerializer, **api_errors(400, 404, conflict=True)},
        summary="Decline a waiting goodwill gesture",
        description=_DECISION_DOC,
    )
    def post(self, request, gesture_id: int):
        return super().post(request, gesture_id)
