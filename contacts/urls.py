from django.urls import include, path

from contacts import export_views, search_views, views
from contacts.erasure import views as erasure_views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list_view, name="contact-list"),
    path("new/", views.contact_log_view, name="contact-log"),
    path("export/", export_views.contact_export_view, name="contact-export"),
    path("road-suggestion/", views.road_suggestion_view, name="road-suggestion"),
    path("search/", search_views.message_search_view, name="message-search"),
    path("<int:contact_id>/", views.contact_detail_view, name="contact-detail"),
    path("<int:contact_id>/edit/", views.contact_edit_view, name="contact-edit"),
    path("<int:contact_id>/delete/", views.contact_delete_view, name="contact-delete"),
    path("customers/", views.customer_search_view, name="customer-search"),
    path("customers/<int:customer_id>/", views.customer_detail_view, name="customer-detail"),
    path(
        "customers/<int:customer_id>/erase/",
        erasure_views.customer_erase_view,
        name="customer-erase",
    ),
    path("", include("contacts.gestures.urls")),
]
