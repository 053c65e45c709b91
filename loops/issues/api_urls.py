from django.urls import path

from loops.issues import apis

urlpatterns = [
    path("issues/", apis.IssueListApi.as_view(), name="api-issue-list"),
    path("issues/create/", apis.IssueCreateApi.as_view(), name="api-issue-create"),
    path("issues/<int:issue_id>/", apis.IssueDetailApi.as_view(), name="api-issue-detail"),
    path("issues/<int:issue_id>/edit/", apis.IssueEditApi.as_view(), name="api-issue-edit"),
    path("issues/<int:issue_id>/assign/", apis.IssueAssignApi.as_view(), name="api-issue-assign"),
    path(
        "issues/<int:issue_id>/transition/",
        apis.IssueTransitionApi.as_view(),
        name="api-issue-transition",
    ),
    path("issues/<int:issue_id>/merge/", apis.IssueMergeApi.as_view(), name="api-issue-merge"),
    path(
        "issues/<int:issue_id>/evidence/",
        apis.IssueEvidenceListApi.as_view(),
        name="api-issue-evidence-list",
    ),
    path(
        "issues/<int:issue_id>/evidence/add/",
        apis.IssueEvidenceAddApi.as_view(),
        name="api-issue-evidence-add",
    ),
    path(
        "issues/<int:issue_id>/evidence/<int:evidence_id>/remove/",
        apis.IssueEvidenceRemoveApi.as_view(),
        name="api-issue-evidence-remove",
    ),
]
