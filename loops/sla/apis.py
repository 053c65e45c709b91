"""The SLA part of the REST API: the escalations of an issue (read only), for whoever may see
the issue (the issue page's scope: 404 outside it)."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from loops.access import VIEW_ISSUES
from loops.models import Escalation, Issue
from loops.selectors import issue_get_visible
from voc.core.api import api_errors
from voc.core.permissions import HasCapability
from voc.people.access import request_viewer

ID_MAX = 2**63 - 1


class EscalationOutputSerializer(serializers.ModelSerializer):
    notified_name = serializers.SerializerMethodField(
        help_text="The person told, as the pages show them; empty if they were deleted."
    )

    class Meta:
        model = Escalation
        ref_name = "Escalation"
        fields = ["id", "clock", "level", "notified", "notified_name", "due_at", "at"]

    def get_notified_name(self, escalation: Escalation) -> str:
        user = escalation.notified
        return "" if user is None else (user.get_full_name() or user.get_username())


class IssueEscalationListApi(ListAPIView):
    serializer_class = EscalationOutputSerializer
    permission_classes = [HasCapability(VIEW_ISSUES)]
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        issue_id = int(self.kwargs["issue_id"])
        if issue_id > ID_MAX:
            raise Http404
        try:
            issue = issue_get_visible(viewer=request_viewer(self.request), issue_id=issue_id)
        except Issue.DoesNotExist:
            raise Http404 from None
        return (
            Escalation.objects.filter(issue=issue).select_related("notified").order_by("at", "id")
        )

    @extend_schema(
        responses={200: EscalationOutputSerializer(many=True), **api_errors(404)},
        summary="The escalations of an issue",
        description="Oldest first: which deadline (clock) was missed, the level (1 the owner, "
        "2 their manager, 3 the sponsor), who was told and when. 404 for an issue the caller "
        "may not see.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
