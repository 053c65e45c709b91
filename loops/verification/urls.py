"""Verification pages, included in loops/urls.py (names in the "loops" namespace)."""

from django.urls import path

from loops.verification import views

urlpatterns = [
    path(
        "issues/<int:issue_id>/verification/",
        views.verification_view,
        name="issue-verification",
    ),
    path(
        "issues/<int:issue_id>/verification/confirm/",
        views.verification_confirm_view,
        name="issue-verification-confirm",
    ),
    path(
        "issues/<int:issue_id>/verification/reopen/",
        views.verification_reopen_view,
        name="issue-verification-reopen",
    ),
]
