from django.urls import include, path

from contacts.apis import bulk, contacts, customers, messages, reasons, search
from contacts.erasure.apis import CustomerEraseApi

urlpatterns = [
    path("customers/", customers.CustomerListApi.as_view(), name="api-customer-list"),
    path("customers/lookup/", customers.CustomerLookupApi.as_view(), name="api-customer-lookup"),
    path("customers/create/", customers.CustomerCreateApi.as_view(), name="api-customer-create"),
    path(
        "customers/<int:customer_id>/",
        customers.CustomerDetailApi.as_view(),
        name="api-customer-detail",
    ),
    path(
        "customers/<int:customer_id>/update/",
        customers.CustomerUpdateApi.as_view(),
        name="api-customer-update",
    ),
    path(
        "customers/<int:customer_id>/erase/",
        CustomerEraseApi.as_view(),
        name="api-customer-erase",
    ),
    path("contacts/", contacts.ContactListApi.as_view(), name="api-contact-list"),
    path("contacts/create/", contacts.ContactCreateApi.as_view(), name="api-contact-create"),
    path("contacts/bulk/", bulk.ContactBulkApi.as_view(), name="api-contact-bulk"),
    path(
        "contacts/<int:contact_id>/", contacts.ContactDetailApi.as_view(), name="api-contact-detail"
    ),
    path(
        "contacts/<int:contact_id>/update/",
        contacts.ContactUpdateApi.as_view(),
        name="api-contact-update",
    ),
    path(
        "contacts/<int:contact_id>/messages/",
        messages.MessageListApi.as_view(),
        name="api-message-list",
    ),
    path("messages/search/", search.MessageSearchApi.as_view(), name="api-message-search"),
    path(
        "contacts/<int:contact_id>/messages/create/",
        messages.MessageCreateApi.as_view(),
        name="api-message-create",
    ),
    path("reasons/", reasons.ReasonListApi.as_view(), name="api-reason-list"),
    path("reasons/create/", reasons.ReasonCreateApi.as_view(), name="api-reason-create"),
    path("reasons/<int:reason_id>/", reasons.ReasonDetailApi.as_view(), name="api-reason-detail"),
    path(
        "reasons/<int:reason_id>/update/",
        reasons.ReasonUpdateApi.as_view(),
        name="api-reason-update",
    ),
    path("", include("contacts.gestures.api_urls")),
]
