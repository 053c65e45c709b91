from django.urls import path

from loops.issues import views

urlpatterns = [
    path("issues/<int:issue_id>/", views.issue_detail_view, name="issue-detail"),
]
