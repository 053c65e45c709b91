from django.urls import path

from loops.sla import views

urlpatterns = [
    path("sla/", views.sla_policies_view, name="sla-policies"),
]
