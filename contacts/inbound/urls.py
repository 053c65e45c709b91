from django.urls import path

from contacts.inbound import views

app_name = "inbound"
urlpatterns = [
    path("webhooks/inbound/<slug:esp>/", views.inbound_webhook_view, name="webhook"),
    path("ops/inbound/", views.inbound_ops_view, name="ops"),
]
