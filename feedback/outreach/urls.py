"""Outreach pages, included under /feedback/outreach/ in feedback/urls.py (names in the
"feedback" namespace)."""

from django.urls import path

from feedback.outreach import views

urlpatterns = [
    path("", views.outreach_hub_view, name="outreach-hub"),
    path("generate/", views.outreach_generate_view, name="outreach-generate"),
    path("calls/<int:call_id>/", views.outreach_call_view, name="outreach-call"),
    path("exercises/new/", views.outreach_exercise_log_view, name="outreach-exercise-log"),
    path("forums/", views.forum_list_view, name="forum-list"),
    path("forums/new/", views.forum_create_view, name="forum-create"),
    path("forums/<int:forum_id>/", views.forum_detail_view, name="forum-detail"),
    path("forums/<int:forum_id>/topics/", views.forum_topic_add_view, name="forum-topic-add"),
    path("topics/<int:topic_id>/done/", views.forum_topic_done_view, name="forum-topic-done"),
    path("<slug:program>/", views.outreach_program_view, name="outreach-program"),
    path(
        "<slug:program>/<str:month>/summary/",
        views.outreach_summary_view,
        name="outreach-summary",
    ),
    path(
        "<slug:program>/<str:month>/summary/share/",
        views.outreach_summary_share_view,
        name="outreach-summary-share",
    ),
]
