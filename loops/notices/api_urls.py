from django.urls import path

from loops.notices.apis import (
    NoticeApproveApi,
    NoticeAudienceApi,
    NoticeCreateApi,
    NoticeDetailApi,
    NoticeEditApi,
    NoticeListApi,
    NoticeRecipientListApi,
)

urlpatterns = [
    path(
        "issues/<int:issue_id>/notice-audience/",
        NoticeAudienceApi.as_view(),
        name="api-notice-audience",
    ),
    path("issues/<int:issue_id>/notices/", NoticeListApi.as_view(), name="api-notice-list"),
    path(
        "issues/<int:issue_id>/notices/create/",
        NoticeCreateApi.as_view(),
        name="api-notice-create",
    ),
    path("notices/<int:notice_id>/", NoticeDetailApi.as_view(), name="api-notice-detail"),
    path("notices/<int:notice_id>/edit/", NoticeEditApi.as_view(), name="api-notice-edit"),
    path("notices/<int:notice_id>/approve/", NoticeApproveApi.as_view(), name="api-notice-approve"),
    path(
        "notices/<int:notice_id>/recipients/",
        NoticeRecipientListApi.as_view(),
        name="api-notice-recipients",
    ),
]
