from django.urls import path

from voc.people import views

app_name = "people"
urlpatterns = [
    path("", views.directory_view, name="directory"),
    path("tokens/", views.tokens_view, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke_view, name="token-revoke"),
]
