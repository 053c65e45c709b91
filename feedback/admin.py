from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from feedback.items.topics import topic_rule_check, topic_rule_delete, topic_rule_save
from feedback.models import (
    Forum,
    ForumTopic,
    OutreachCall,
    OutreachExercise,
    OutreachList,
    Story,
    SurveyInvitation,
    TopicRule,
)
from voc.core.admin import ReadOnlyAdmin


class TopicRuleForm(forms.ModelForm):
    class Meta:
        model = TopicRule
        fields = ("name", "keywords", "reason", "priority", "enabled")

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        rule = TopicRule(keywords=cleaned.get("keywords") or "", reason=cleaned.get("reason"))
        try:
            topic_rule_check(rule)
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


@admin.register(TopicRule)
class TopicRuleAdmin(admin.ModelAdmin):
    """Keyword rules that give feedback items a topic (docs/feedback-items.md)."""

    list_display = ("name", "reason", "priority", "enabled", "updated_at")
    list_filter = ("enabled",)
    list_editable = ("enabled",)
    search_fields = ("name", "keywords")
    ordering = ("priority", "id")
    form = TopicRuleForm
    fields = ("name", "keywords", "reason", "priority", "enabled")

    def save_model(self, request, obj, form, change):
        topic_rule_save(rule=obj, by=request.user)

    def delete_model(self, request, obj):
        topic_rule_delete(rule=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            topic_rule_delete(rule=rule, by=request.user)


# --- Read-only records (written by their services only, so every change is audited) ---


@admin.register(OutreachList)
class OutreachListAdmin(ReadOnlyAdmin):
    """Monthly call lists (docs/outreach.md); ``refused`` counts the budget's "no"s, whose
    reasons are the BudgetRefusal rows under the list's budget key."""

    list_display = ["month", "program", "executive", "size", "refused", "taken", "generated_by"]
    list_filter = ["program", "month"]
    list_select_related = ["executive"]
    search_fields = ["executive__username"]


@admin.register(OutreachCall)
class OutreachCallAdmin(ReadOnlyAdmin):
    list_display = ["month", "outreach_list", "customer_id", "position", "called_at", "outcome"]
    list_filter = ["outcome", "month", "outreach_list__program"]
    list_select_related = ["outreach_list__executive"]
    raw_id_fields = ["outreach_list", "customer", "logged_by"]
    search_fields = ["=customer__id", "outreach_list__executive__username"]


@admin.register(OutreachExercise)
class OutreachExerciseAdmin(ReadOnlyAdmin):
    list_display = ["done_at", "executive", "task", "minutes_spent", "outcome"]
    list_filter = ["task", "outcome"]
    list_select_related = ["executive"]
    date_hierarchy = "done_at"


@admin.register(Forum)
class ForumAdmin(ReadOnlyAdmin):
    list_display = ["held_at", "title", "created_by"]
    list_select_related = ["created_by"]
    date_hierarchy = "held_at"


@admin.register(ForumTopic)
class ForumTopicAdmin(ReadOnlyAdmin):
    list_display = ["forum", "title", "outcome", "owner", "due_on", "done_at"]
    list_filter = ["outcome"]
    list_select_related = ["forum", "owner"]
    raw_id_fields = ["forum", "raised_by", "owner"]


@admin.register(Story)
class StoryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "thumb", "title", "author", "erased_at"]
    list_filter = ["thumb"]
    list_select_related = ["author"]
    raw_id_fields = ["contact", "author"]
    date_hierarchy = "created_at"


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(ReadOnlyAdmin):
    """Survey invitations (docs/surveys.md): who was asked, on which scale, and whether they
    answered. The link itself is never stored."""

    list_display = ["sent_at", "contact_id", "customer_id", "scale", "channel", "answered_at"]
    list_filter = ["scale", "channel"]
    raw_id_fields = ["contact", "customer", "answer"]
    date_hierarchy = "sent_at"
    search_fields = ["=contact__id", "=customer__id"]
