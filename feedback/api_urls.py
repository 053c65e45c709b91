from django.urls import path

from feedback.apis import SessionNoteCreateApi

urlpatterns = [
    path(
        "sessions/<int:session_id>/notes/",
        SessionNoteCreateApi.as_view(),
        name="api-session-note-create",
    ),
]
