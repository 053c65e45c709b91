from django.urls import path

from loops.digests import views

urlpatterns = [
    path("digests/", views.digest_list_view, name="digest-list"),
    path("digests/new/", views.digest_subscribe_view, name="digest-subscribe"),
    path("digests/new/preview/", views.digest_preview_new_view, name="digest-preview-new"),
    path("digests/enrol/", views.digest_enrol_view, name="digest-enrol"),
    path("digests/<int:subscription_id>/", views.digest_change_view, name="digest-change"),
    path(
        "digests/<int:subscription_id>/preview/",
        views.digest_preview_view,
        name="digest-preview",
    ),
    path(
        "digests/<int:subscription_id>/threads/",
        views.digest_threads_view,
        name="digest-threads",
    ),
    path("digests/<int:subscription_id>/leave/", views.digest_leave_view, name="digest-leave"),
    path("digests/sent/<int:digest_id>/", views.digest_sent_view, name="digest-sent"),
    path("digests/sent/<int:digest_id>/resend/", views.digest_resend_view, name="digest-resend"),
    path("digests/problems/", views.digest_problems_view, name="digest-problems"),
    path(
        "digests/unsubscribe/<str:token>/",
        views.digest_unsubscribe_view,
        name="digest-unsubscribe",
    ),
]
