from django.urls import path

from contacts.budget import views

app_name = "budget"
urlpatterns = [
    path("opt-out/<str:purpose>/<str:token>/", views.budget_opt_out_view, name="opt-out"),
]
