"""The flag pages, included in loops/urls.py (names in the "loops" namespace)."""

from django.urls import path

from loops.flags import views

urlpatterns = [
    path("flags/", views.my_flags_view, name="my-flags"),
    path("flags/contacts/<int:contact_id>/me-too/", views.flag_me_too_view, name="flag-me-too"),
    path("flags/contacts/<int:contact_id>/propose/", views.flag_propose_view, name="flag-propose"),
]
