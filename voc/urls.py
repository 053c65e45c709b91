from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from voc.core.api import api_not_found_view
from voc.core.views import healthz_view
from voc.dashboards.views import home_view
from voc.people.views import PasswordResetView

admin.site.site_header = "VoC administration"
admin.site.site_title = "VoC admin"

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
]

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("voc.people.api_urls")),
    path("", include("contacts.api_urls")),
    path("", include("feedback.api_urls")),
    path("", include("loops.api_urls")),
    # Last: JSON 404s. [\s\S], not ".", so a path with an encoded newline (%0a) matches too.
    re_path(r"^[\s\S]*$", api_not_found_view, name="api-not-found"),
]

urlpatterns = [
    path("", home_view, name="home"),
    path("accounts/", include(auth_patterns)),
    path("people/", include("voc.people.urls")),
    path("contacts/", include("contacts.urls")),
    path("feedback/", include("feedback.urls")),
    path("loops/", include("loops.urls")),
    path("dashboards/", include("voc.dashboards.urls")),
    path("", include("voc.core.urls")),
    path("", include("contacts.inbound.urls")),  # /webhooks/inbound/<esp>/, /ops/inbound/
    path("c/", include("contacts.budget.urls")),  # /c/opt-out/<purpose>/<token>/, from emails
    path("healthz/", healthz_view, name="healthz"),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script from its own URL: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages without an icon link (the API's JSON, files).
    path(
        "favicon.ico",
        lambda request: HttpResponsePermanentRedirect(static("favicon.svg")),
        name="favicon",
    ),
]

# Under /api/ errors answer in JSON, like the rest of the API; pages keep Django's HTML.
handler400 = "voc.core.api.bad_request_view"
handler404 = "voc.core.api.page_not_found_view"
handler500 = "voc.core.api.server_error_view"
