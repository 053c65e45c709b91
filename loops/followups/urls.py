from django.urls import path

from loops.followups import views

urlpatterns = [
    path("follow-ups/", views.follow_up_list_view, name="follow-up-list"),
    path("follow-ups/<int:follow_up_id>/", views.follow_up_detail_view, name="follow-up-detail"),
]
