from django.urls import include, path

from feedback import views

app_name = "feedback"
urlpatterns = [
    path("sessions/", views.session_list_view, name="session-list"),
    path("sessions/new/", views.session_schedule_view, name="session-schedule"),
    path("sessions/<int:session_id>/", views.session_detail_view, name="session-detail"),
    path("sessions/<int:session_id>/start/", views.session_start_view, name="session-start"),
    path("sessions/<int:session_id>/end/", views.session_end_view, name="session-end"),
    path("sessions/<int:session_id>/cancel/", views.session_cancel_view, name="session-cancel"),
    path(
        "sessions/<int:session_id>/reschedule/",
        views.session_reschedule_view,
        name="session-reschedule",
    ),
    path("", include("feedback.items.urls")),  # /feedback/items/...
    path("", include("feedback.complaints.urls")),  # /feedback/complaints/...
    path("outreach/", include("feedback.outreach.urls")),
    path("", include("feedback.stories.urls")),
    path("surveys/", include("feedback.surveys.urls")),
]
