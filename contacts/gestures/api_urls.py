from django.urls import path

from contacts.gestures import apis

# Included into contacts.api_urls (under /api/v1/).
urlpatterns = [
    path(
        "contacts/<int:contact_id>/gestures/",
        apis.GestureListApi.as_view(),
        name="api-gesture-list",
    ),
    path(
        "gestures/<int:gesture_id>/approve/",
        apis.GestureApproveApi.as_view(),
        name="api-gesture-approve",
    ),
    path(
        "gestures/<int:gesture_id>/decline/",
        apis.GestureDeclineApi.as_view(),
        name="api-gesture-decline",
    ),
]
