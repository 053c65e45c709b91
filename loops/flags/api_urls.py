"""The flags API, included in loops/api_urls.py (under /api/v1/)."""

from django.urls import path

from loops.flags.apis import FlagMeTooApi, FlagProposeApi, FlagSuggestionsApi, MyFlagsApi

urlpatterns = [
    path(
        "contacts/<int:contact_id>/flag-suggestions/",
        FlagSuggestionsApi.as_view(),
        name="api-flag-suggestions",
    ),
    path("contacts/<int:contact_id>/flags/me-too/", FlagMeTooApi.as_view(), name="api-flag-me-too"),
    path(
        "contacts/<int:contact_id>/flags/new-issue/",
        FlagProposeApi.as_view(),
        name="api-flag-propose",
    ),
    path("flags/mine/", MyFlagsApi.as_view(), name="api-my-flags"),
]
