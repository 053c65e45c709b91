"""The loops pages, under /loops/. Each part's urls (no app_name of their own) join the
"loops" namespace: reverse("loops:issue-board")."""

from django.urls import URLPattern, URLResolver, include, path

app_name = "loops"
urlpatterns: list[URLPattern | URLResolver] = [
    # one include() line per part
    path("", include("loops.issues.urls")),
    path("", include("loops.followups.urls")),
    path("", include("loops.digests.urls")),
    path("", include("loops.verification.urls")),
    path("", include("loops.promote.urls")),
    path("", include("loops.flags.urls")),
    path("", include("loops.notices.urls")),
    path("", include("loops.sla.urls")),
    path("", include("loops.notifications.urls")),
]
