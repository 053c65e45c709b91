from django.urls import path

from contacts import apis
from contacts.apis import search as apis_search
from contacts.erasure.apis import CustomerEraseApi

urlpatterns = [
    path("customers/", apis.CustomerListApi.as_view(), name="api-customer-list"),
    path("customers/create/", apis.CustomerCreateApi.as_view(), name="api-customer-create"),
    path(
        "customers/<int:customer_id>/", apis.CustomerDetailApi.as_view(), name="api-customer-detail"
    ),
    path(
        "customers/<int:customer_id>/update/",
        apis.CustomerUpdateApi.as_view(),
        name="api-customer-update",
    ),
    path(
        "customers/<int:customer_id>/erase/",
        CustomerEraseApi.as_view(),
        name="api-customer-erase",
    ),
    path("contacts/", apis.ContactListApi.as_view(), name="api-contact-list"),
    path("contacts/create/", apis.ContactCreateApi.as_view(), name="api-contact-create"),
    path("contacts/bulk/", apis.ContactBulkApi.as_view(), name="api-contact-bulk"),
    path("contacts/<int:contact_id>/", apis.ContactDetailApi.as_view(), name="api-contact-detail"),
    path(
        "contacts/<int:contact_id>/update/",
        apis.ContactUpdateApi.as_view(),
        name="api-contact-update",
    ),
    path(
        "contacts/<int:contact_id>/messages/",
        apis.MessageListApi.as_view(),
        name="api-message-list",
    ),
    path("messages/search/", apis_search.MessageSearchApi.as_view(), name="api-message-search"),
    path(
        "contacts/<int:contact_id>/messages/create/",
        apis.MessageCreateApi.as_view(),
        name="api-message-create",
    ),
    path("reasons/", apis.ReasonListApi.as_view(), name="api-reason-list"),
    path("reasons/create/", apis.ReasonCreateApi.as_view(), name="api-reason-create"),
    path("reasons/<int:reason_id>/", apis.ReasonDetailApi.as_view(), name="api-reason-detail"),
    path(
        "reasons/<int:reason_id>/update/", apis.ReasonUpdateApi.as_view(), name="api-reason-update"
    ),
]
