"""The stories REST API: the stories the caller may read, telling one about a contact they may
see, and taking one back (its author, or an admin). One class per resource, as the feedback
items API; the services decide who may do what."""

import django_filters
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.apis.common import StrictIntegerField, TextField
from contacts.selectors import contact_get_visible
from feedback.access import RECORD_STORIES
from feedback.models import Story
from feedback.stories.selectors import story_get_visible, story_list_visible
from feedback.stories.services import MAX_TEXT, MAX_TITLE, story_record, story_remove
from voc.core.api import (
    IdFilter,
    StrictFilterSet,
    StrictLimitOffsetPagination,
    api_errors,
    validated_data,
)
from voc.core.capabilities import has_capability
from voc.core.permissions import IsActiveUser


class StoryInputSerializer(serializers.Serializer):
    contact = StrictIntegerField(min_value=1, help_text="The contact the story is about.")
    thumb = serializers.ChoiceField(choices=Story.Thumb.choices)
    title = TextField(
        max_length=MAX_TITLE, required=True, nonblank=True, help_text="Redacted when stored."
    )
    text = TextField(
        max_length=MAX_TEXT, required=True, nonblank=True, help_text="Redacted when stored."
    )

    class Meta:
        ref_name = "StoryInput"


class StoryOutputSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Story
        ref_name = "Story"
        fields = ["id", "thumb", "title", "text", "contact", "author", "author_name", "created_at"]

    def get_author_name(self, story: Story) -> str:
        return story.author.get_full_name() or story.author.get_username()


class StoryFilter(StrictFilterSet):
    thumb = django_filters.ChoiceFilter(choices=Story.Thumb.choices)
    contact = IdFilter(field_name="contact_id")


@extend_schema_view(
    get=extend_schema(
        responses={200: StoryOutputSerializer(many=True), **api_errors(400)},
        summary="Stories the caller may read",
        description="Newest first. Executives and admins read every story; everyone else the "
        "stories they told and those about contacts they may see.",
    )
)
class StoryListApi(ListAPIView):
    permission_classes = [IsActiveUser]
    serializer_class = StoryOutputSerializer
    pagination_class = StrictLimitOffsetPagination
    filterset_class = StoryFilter
    parser_classes = [JSONParser]

    def get_queryset(self):
        return (
            story_list_visible(viewer=self.request.user)
            .select_related("author")
            .order_by("-created_at", "-id")
        )

    @extend_schema(
        request=StoryInputSerializer,
        responses={
            201: OpenApiResponse(StoryOutputSerializer, description="Told."),
            **api_errors(400, 403, 404, conflict=True),
        },
        summary="Tell a story about a contact",
        description="A memorable good (up) or bad (down) experience with a contact the caller "
        "may see; the title and text are redacted before they are stored. A 409 when the "
        "customer was erased.",
    )
    def post(self, request):
        if not has_capability(request.user, RECORD_STORIES):
            self.permission_denied(request, message="You cannot tell stories.")
        data = validated_data(StoryInputSerializer, request)
        contact = contact_get_visible(viewer=request.user, contact_id=data["contact"])
        if contact is None:
            raise Http404("No such contact, or not one you can see.")
        story = story_record(
            contact=contact,
            thumb=data["thumb"],
            title=data["title"],
            text=data["text"],
            by=request.user,
        )
        return Response(StoryOutputSerializer(story).data, status=status.HTTP_201_CREATED)


class StoryDetailApi(APIView):
    permission_classes = [IsActiveUser]

    def _story(self, request, story_id: int) -> Story:
        story = story_get_visible(viewer=request.user, story_id=story_id)
        if story is None:
            raise Http404("No such story, or not one you can read.")
        return story

    @extend_schema(
        responses={200: StoryOutputSerializer, **api_errors(404)},
        summary="One story",
    )
    def get(self, request, story_id: int):
        return Response(StoryOutputSerializer(self._story(request, story_id)).data)

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Taken back."), **api_errors(403, 404)},
        summary="Take a story back",
        description="Its author, or an admin.",
    )
    def delete(self, request, story_id: int):
        story_remove(story=self._story(request, story_id), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
