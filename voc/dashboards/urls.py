"""The dashboard pages, under /dashboards/."""

from django.urls import path

from voc.dashboards import loop_views, views

app_name = "dashboards"
urlpatterns = [
    path("", views.executive_view, name="executive"),
    path("panels/<slug:panel>/", views.panel_view, name="panel"),
    path("contacts/", views.drill_contacts_view, name="drill-contacts"),
    path("feedback/", views.drill_feedback_view, name="drill-feedback"),
    path("issues/", loop_views.drill_issues_view, name="drill-issues"),
    path("follow-ups/", loop_views.drill_follow_ups_view, name="drill-follow-ups"),
    path("customers/", views.drill_customers_view, name="drill-customers"),
    path("threads/", views.drill_threads_view, name="drill-threads"),
    path("listening/", views.drill_listening_view, name="drill-listening"),
    path("stories/", views.drill_stories_view, name="drill-stories"),
    path("gestures/", views.drill_gestures_view, name="drill-gestures"),
]
