from django.conf import settings
from django.urls import path

from voc.core import business_views, views

app_name = "core"
urlpatterns = [
    path("ops/jobs/", views.jobs_view, name="jobs"),
    path(
        "settings/business/",
        business_views.business_settings_view,
        name="business-settings",
    ),
    path(
        "settings/business/<slug:key>/",
        business_views.business_setting_view,
        name="business-setting",
    ),
    path(
        "settings/business/<slug:key>/reset/",
        business_views.business_setting_reset_view,
        name="business-setting-reset",
    ),
]
if settings.OUTBOX_ENABLED:  # never in production: the outbox shows password-reset links
    urlpatterns += [
        path("outbox/", views.outbox_view, name="outbox"),
        path("outbox/<int:message_id>/", views.outbox_message_view, name="outbox-message"),
    ]
