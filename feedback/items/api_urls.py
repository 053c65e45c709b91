from django.urls import path

from feedback.items import apis

urlpatterns = [
    path("feedback/", apis.FeedbackItemListApi.as_view(), name="api-feedback-item-list"),
    path("feedback/bulk/", apis.FeedbackItemBulkApi.as_view(), name="api-feedback-item-bulk"),
    path(
        "feedback/<int:item_id>/",
        apis.FeedbackItemDetailApi.as_view(),
        name="api-feedback-item-detail",
    ),
]
