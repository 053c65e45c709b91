from django.urls import path

from voc.people import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="api-me"),
    path("users/", apis.UserListApi.as_view(), name="api-user-list"),
    path("users/<int:pk>/", apis.UserDetailApi.as_view(), name="api-user-detail"),
    path("teams/", apis.TeamListApi.as_view(), name="api-team-list"),
    path("departments/", apis.DepartmentListApi.as_view(), name="api-department-list"),
    path("tokens/", apis.ApiTokenListApi.as_view(), name="api-token-list"),
    path("tokens/create/", apis.ApiTokenCreateApi.as_view(), name="api-token-create"),
    path(
        "tokens/<int:token_id>/revoke/", apis.ApiTokenRevokeApi.as_view(), name="api-token-revoke"
    ),
]
