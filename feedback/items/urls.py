from django.urls import path

from feedback.items import views

# Included by feedback/urls.py, in the "feedback" namespace.
urlpatterns = [
    path("items/", views.item_list_view, name="item-list"),
    path("items/new/", views.item_log_view, name="item-log"),
    path("items/<int:item_id>/", views.item_detail_view, name="item-detail"),
    path("items/<int:item_id>/topic/", views.item_topic_view, name="item-topic"),
]
