from django.urls import path

from loops.followups.apis import FollowUpCloseApi, FollowUpDetailApi, FollowUpListApi

urlpatterns = [
    path("follow-ups/", FollowUpListApi.as_view(), name="api-follow-up-list"),
    path(
        "follow-ups/<int:follow_up_id>/", FollowUpDetailApi.as_view(), name="api-follow-up-detail"
    ),
    path(
        "follow-ups/<int:follow_up_id>/close/",
        FollowUpCloseApi.as_view(),
        name="api-follow-up-close",
    ),
]
