import django_filters
from django.conf import settings
from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from voc.core.api import (
    IdFilter,
    StrictCharField,
    StrictFilterSet,
    StrictLimitOffsetPagination,
    error_responses,
)
from voc.core.capabilities import Capability, effective_role, role_capabilities
from voc.core.permissions import HasCapability
from voc.core.throttling import ScopedRateThrottle
from voc.people import selectors, services
from voc.people.models import ApiToken, Department, Team, User
from voc.people.roles import Role


class UserFilter(StrictFilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    team = IdFilter(field_name="team_id")
    department = IdFilter(field_name="department_id")


class TeamFilter(StrictFilterSet):
    department = IdFilter(field_name="department_id")


class UserOutputSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="get_full_name")

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "role", "title", "team", "department"]


class TeamOutputSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "department", "lead", "member_count"]


class DepartmentOutputSerializer(serializers.ModelSerializer):
    team_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Department
        fields = ["id", "name", "head", "team_count"]


class MeOutputSerializer(UserOutputSerializer):
    role = serializers.SerializerMethodField(
        help_text="The role the user acts in: `admin` for a superuser, whatever is stored."
    )
    capabilities = serializers.SerializerMethodField()

    class Meta(UserOutputSerializer.Meta):
        fields = [*UserOutputSerializer.Meta.fields, "capabilities"]

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, user) -> str | None:
        # The same rule as the capabilities and the row scope, so the three always agree.
        return effective_role(user)

    def get_capabilities(self, user) -> list[str]:
        return sorted(role_capabilities(effective_role(user)))


class MeApi(APIView):
    @extend_schema(
        responses={200: MeOutputSerializer, **error_responses()},
        summary="The signed-in user and what they may use",
    )
    def get(self, request):
        return Response(MeOutputSerializer(request.user).data)


@extend_schema_view(
    get=extend_schema(responses={200: UserOutputSerializer, **error_responses(400)})
)
class UserListApi(ListAPIView):
    """People the caller may see (row scope applied)."""

    serializer_class = UserOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = UserFilter

    def get_queryset(self):
        return selectors.user_list_visible(viewer=self.request.user).order_by("id")


@extend_schema_view(
    get=extend_schema(responses={200: UserOutputSerializer, **error_responses(404)})
)
class UserDetailApi(RetrieveAPIView):
    """One person the caller may see; anyone else is a 404."""

    serializer_class = UserOutputSerializer

    def get_queryset(self):
        return selectors.user_list_visible(viewer=self.request.user)


@extend_schema_view(
    get=extend_schema(responses={200: TeamOutputSerializer, **error_responses(400)})
)
class TeamListApi(ListAPIView):
    """Teams the caller may see."""

    serializer_class = TeamOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = TeamFilter

    def get_queryset(self):
        return selectors.team_list_visible(viewer=self.request.user).order_by("id")


@extend_schema_view(
    get=extend_schema(responses={200: DepartmentOutputSerializer, **error_responses(400)})
)
class DepartmentListApi(ListAPIView):
    """Departments the caller may see: their own and those of the teams they see."""

    serializer_class = DepartmentOutputSerializer
    pagination_class = StrictLimitOffsetPagination

    def get_queryset(self):
        return selectors.department_list_visible(viewer=self.request.user).order_by("id")


class ApiTokenOutputSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "key_hint", "created_at", "last_used_at", "revoked_at", "active"]


class ApiTokenCreatedSerializer(ApiTokenOutputSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiTokenOutputSerializer.Meta):
        fields = [*ApiTokenOutputSerializer.Meta.fields, "key"]


@extend_schema_view(
    get=extend_schema(responses={200: ApiTokenOutputSerializer, **error_responses(400)})
)
class ApiTokenListApi(ListAPIView):
    """The caller's own API tokens (keys are never shown again)."""

    serializer_class = ApiTokenOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    permission_classes = [HasCapability(Capability.MANAGE_OWN_TOKENS)]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return ApiToken.objects.none()
        return selectors.api_token_list(user=self.request.user).order_by("-id")


class ApiTokenCreateApi(APIView):
    permission_classes = [HasCapability(Capability.MANAGE_OWN_TOKENS)]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token_create"

    class InputSerializer(serializers.Serializer):
        # Checked as sent (not trimmed first), so the documented limits are the enforced ones:
        # at most 100 characters, something besides white space, and no NUL characters.
        name = StrictCharField(
            max_length=100,
            trim_whitespace=False,
            validators=[
                RegexValidator(
                    r"^[^\x00]*[^\x00\s][^\x00]*$",
                    message="Give the token a name, e.g. the script that uses it.",
                )
            ],
        )

        class Meta:
            ref_name = "ApiTokenCreate"

    @extend_schema(
        request=InputSerializer,
        responses={201: ApiTokenCreatedSerializer, **error_responses(400, 429)},
        summary="Create a personal API token",
        description=f"At most {services.MAX_ACTIVE_TOKENS} active tokens per user (a 400 beyond "
        f"that), and at most {settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['token_create']} "
        "created (a 429 beyond that).",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = services.api_token_create(user=request.user, name=data.validated_data["name"])
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class ApiTokenRevokeApi(APIView):
    permission_classes = [HasCapability(Capability.MANAGE_OWN_TOKENS)]

    @extend_schema(
        request=None,
        responses={200: ApiTokenOutputSerializer, **error_responses(404)},
        summary="Revoke a token",
        description="Revoke one of the caller's own tokens; revoking it again changes nothing.",
    )
    def post(self, request, token_id: int):
        token = get_object_or_404(selectors.api_token_list(user=request.user), id=token_id)
        token = services.api_token_revoke(token=token)
        return Response(ApiTokenOutputSerializer(token).data)
