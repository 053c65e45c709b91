from django.urls import path

from feedback.surveys import views

app_name = "surveys"
urlpatterns = [
    path("", views.survey_report_view, name="report"),
    # From the invitation email: the signed token is all the URL holds.
    path("s/<str:token>/", views.survey_answer_view, name="answer"),
]
