from django.urls import path

from feedback.complaints import views

# Included by feedback/urls.py, in the "feedback" namespace.
urlpatterns = [
    path("complaints/<int:item_id>/", views.complaint_detail_view, name="complaint-detail"),
    path("complaints/<int:item_id>/thank/", views.complaint_thank_view, name="complaint-thank"),
]
