from django.urls import path

from feedback.stories import apis

urlpatterns = [
    path("stories/", apis.StoryListApi.as_view(), name="api-story-list"),
    path("stories/<int:story_id>/", apis.StoryDetailApi.as_view(), name="api-story-detail"),
]
