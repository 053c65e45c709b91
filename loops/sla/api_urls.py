"""The SLA API, included in loops/api_urls.py (under /api/v1/)."""

from django.urls import path

from loops.sla.apis import IssueEscalationListApi

urlpatterns = [
    path(
        "issues/<int:issue_id>/escalations/",
        IssueEscalationListApi.as_view(),
        name="api-issue-escalations",
    ),
]
