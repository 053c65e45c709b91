"""The promote pages, included in loops/urls.py (names in the "loops" namespace)."""

from django.urls import path

from loops.promote import views

urlpatterns = [
    # Before the source pattern, which "issues" would match as a kind.
    path("promote/issues/<int:issue_id>/", views.promote_result_view, name="promote-result"),
    path("promote/<slug:kind>/<int:source_id>/", views.promote_view, name="promote"),
]
