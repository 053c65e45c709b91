"""The promote API, included in loops/api_urls.py (under /api/v1/)."""

from django.urls import path

from loops.promote.apis import PromoteEvidenceApi, PromoteNewIssueApi

urlpatterns = [
    path(
        "promote/<slug:kind>/<int:source_id>/new-issue/",
        PromoteNewIssueApi.as_view(),
        name="api-promote-new-issue",
    ),
    path(
        "promote/<slug:kind>/<int:source_id>/evidence/",
        PromoteEvidenceApi.as_view(),
        name="api-promote-evidence",
    ),
]
