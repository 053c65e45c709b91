from django.conf import settings
from django.urls import path

from voc.core import views

app_name = "core"
urlpatterns = [
    path("ops/jobs/", views.jobs_view, name="jobs"),
]
if settings.OUTBOX_ENABLED:  # never in production: the outbox shows password-reset links
    urlpatterns += [
        path("outbox/", views.outbox_view, name="outbox"),
        path("outbox/<int:message_id>/", views.outbox_message_view, name="outbox-message"),
    ]
