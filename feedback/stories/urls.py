from django.urls import path

from feedback.stories import views

urlpatterns = [
    path("stories/", views.story_wall_view, name="story-wall"),
    path("contacts/<int:contact_id>/story/", views.story_record_view, name="story-record"),
    path("stories/<int:story_id>/remove/", views.story_remove_view, name="story-remove"),
]
