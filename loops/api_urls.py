"""The loops API, under /api/v1/: one include() line per part (issues, flags, follow-ups,
notices), each with one API class per operation."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("loops.followups.api_urls")),
    path("", include("loops.promote.api_urls")),
    path("", include("loops.issues.api_urls")),
    path("", include("loops.flags.api_urls")),
    path("", include("loops.notices.api_urls")),
    path("", include("loops.sla.api_urls")),
]
