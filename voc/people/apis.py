from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from voc.people import selectors, services
from voc.people.access import ROLE_CAPABILITIES, Capability, effective_role
from voc.people.models import ApiToken, Department, Team, User
from voc.people.permissions import HasCapability


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
    capabilities = serializers.SerializerMethodField()

    class Meta(UserOutputSerializer.Meta):
        fields = [*UserOutputSerializer.Meta.fields, "capabilities"]

    def get_capabilities(self, user) -> list[str]:
        return sorted(ROLE_CAPABILITIES.get(effective_role(user) or "", frozenset()))


class MeApi(APIView):
    @extend_schema(responses=MeOutputSerializer, summary="The signed-in user and what they may use")
    def get(self, request):
        return Response(MeOutputSerializer(request.user).data)


class UserListApi(ListAPIView):
    """People the caller may see (row scope applied)."""

    serializer_class = UserOutputSerializer
    filterset_fields = ["role", "team", "department"]

    def get_queryset(self):
        return selectors.user_list_visible(viewer=self.request.user).order_by("id")


class UserDetailApi(RetrieveAPIView):
    serializer_class = UserOutputSerializer

    def get_queryset(self):
        return selectors.user_list_visible(viewer=self.request.user)


class TeamListApi(ListAPIView):
    serializer_class = TeamOutputSerializer
    filterset_fields = ["department"]

    def get_queryset(self):
        return selectors.team_list_visible(viewer=self.request.user).order_by("id")


class DepartmentListApi(ListAPIView):
    serializer_class = DepartmentOutputSerializer

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


class ApiTokenListApi(ListAPIView):
    """The caller's own API tokens (keys are never shown again)."""

    serializer_class = ApiTokenOutputSerializer
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
        name = serializers.CharField(max_length=100, allow_blank=False, trim_whitespace=True)

    @extend_schema(
        request=InputSerializer,
        responses={201: ApiTokenCreatedSerializer},
        summary="Create a personal API token",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = services.api_token_create(user=request.user, name=data.validated_data["name"])
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class ApiTokenRevokeApi(APIView):
    permission_classes = [HasCapability(Capability.MANAGE_OWN_TOKENS)]

    @extend_schema(request=None, responses=ApiTokenOutputSerializer, summary="Revoke a token")
    def post(self, request, token_id: int):
        token = get_object_or_404(selectors.api_token_list(user=request.user), id=token_id)
        token = services.api_token_revoke(token=token)
        return Response(ApiTokenOutputSerializer(token).data)
