from django.urls import path

from loops.notices import tracking, views

urlpatterns = [
    path("issues/<int:issue_id>/notices/new/", views.notice_new_view, name="notice-new"),
    path("notices/<int:notice_id>/", views.notice_detail_view, name="notice-detail"),
    path("notices/<int:notice_id>/edit/", views.notice_edit_view, name="notice-edit"),
    path("notices/<int:notice_id>/approve/", views.notice_approve_view, name="notice-approve"),
    path(
        "notices/<int:notice_id>/recipients/<int:recipient_id>/resolve/",
        views.notice_resolve_view,
        name="notice-resolve",
    ),
    path(
        "webhooks/tracking/<slug:esp>/",
        tracking.tracking_webhook_view,
        name="tracking-webhook",
    ),
]
