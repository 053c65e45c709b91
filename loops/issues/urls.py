"""The issue pages: the issue page (facts, evidence and the parts' panels) and the board."""

from django.urls import path

from loops.issues import views

urlpatterns = [
    path("issues/", views.issue_board_view, name="issue-board"),
    path("issues/bulk/", views.issue_board_bulk_view, name="issue-board-bulk"),
    path("issues/export/", views.issue_board_export_view, name="issue-board-export"),
    path("issues/<int:issue_id>/", views.issue_detail_view, name="issue-detail"),
    path("issues/<int:issue_id>/assign/", views.issue_assign_view, name="issue-assign"),
    path("issues/<int:issue_id>/status/", views.issue_transition_view, name="issue-transition"),
    path("issues/<int:issue_id>/edit/", views.issue_edit_view, name="issue-edit"),
    path("issues/<int:issue_id>/merge/", views.issue_merge_view, name="issue-merge"),
    path(
        "issues/<int:issue_id>/evidence/export/",
        views.issue_evidence_export_view,
        name="issue-evidence-export",
    ),
    path(
        "issues/<int:issue_id>/evidence/<int:evidence_id>/remove/",
        views.issue_evidence_remove_view,
        name="issue-evidence-remove",
    ),
]
