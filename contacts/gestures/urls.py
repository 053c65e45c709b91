from django.urls import path

from contacts.gestures import views

# Included into contacts.urls: the names are contacts:gesture-*.
urlpatterns = [
    path(
        "<int:contact_id>/gestures/new/",
        views.gesture_record_view,
        name="gesture-record",
    ),
    path(
        "gestures/<int:gesture_id>/approve/",
        views.gesture_approve_view,
        name="gesture-approve",
    ),
    path(
        "gestures/<int:gesture_id>/decline/",
        views.gesture_decline_view,
        name="gesture-decline",
    ),
    path("gestures/report/", views.gesture_report_view, name="gesture-report"),
]
