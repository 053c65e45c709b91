from django.urls import include, path

from feedback.apis import SessionNoteCreateApi

urlpatterns = [
    path(
        "sessions/<int:session_id>/notes/",
        SessionNoteCreateApi.as_view(),
        name="api-session-note-create",
    ),
    path("", include("feedback.items.api_urls")),
    path("", include("feedback.stories.api_urls")),
]
