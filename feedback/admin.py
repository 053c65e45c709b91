from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from feedback.items.topics import topic_rule_check, topic_rule_delete, topic_rule_save
from feedback.models import TopicRule


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
