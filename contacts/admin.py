from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery

from contacts.erasure import admin as erasure_admin
from contacts.models import (
    Contact,
    ContactReason,
    ContactRollup,
    Customer,
    CustomerEvent,
    ImportMapping,
    ImportRun,
    Message,
    RedactionPattern,
)
from contacts.redaction import compile_extra_pattern
from contacts.services.contacts import contact_admin_save
from contacts.services.customers import customer_admin_save, customer_merge
from contacts.services.messages import messages_admin_save
from contacts.services.reasons import reason_admin_save, reason_merge, reason_retire
from voc.people.models import Team


class MergeActionForm(ActionForm):
    merge_target = forms.IntegerField(required=False, label="Merge into id")


def _merge_action(model, service, label):
    @admin.action(description=f"Merge the selected {label} into another (by id)…")
    def merge(modeladmin, request, queryset):
        target_id = request.POST.get("merge_target")
        if not target_id:
            modeladmin.message_user(
                request,
                "Put the id of the record to keep in the “merge into id” box, then run the action.",
                messages.WARNING,
            )
            return
        target = model.objects.filter(id=target_id).first()
        if target is None:
            modeladmin.message_user(
                request, f"No {label[:-1]} with id {target_id}.", messages.ERROR
            )
            return
        moved = 0
        try:
            with transaction.atomic():
                for source in queryset.exclude(id=target.id):
                    moved += service(source=source, target=target, by=request.user)
        except ValidationError as error:
            modeladmin.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        modeladmin.message_user(request, f"Merged into {target}; {moved} contacts moved.")

    return merge


@admin.register(ContactReason)
class ContactReasonAdmin(admin.ModelAdmin):
    list_display = ["__str__", "department", "avoidable", "complaint", "retired_at", "merged_into"]
    list_filter = [
        "avoidable",
        "complaint",
        "department",
        ("retired_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["parent", "department", "merged_into__parent"]
    search_fields = ["name", "parent__name"]
    autocomplete_fields = ["parent", "department"]
    readonly_fields = ["merged_into", "created_at"]
    actions = ["retire", "merge"]
    action_form = MergeActionForm
    merge = _merge_action(ContactReason, reason_merge, "reasons")

    @admin.action(description="Retire the selected reasons (hidden from pickers, history kept)")
    def retire(self, request, queryset):
        for reason in queryset:
            reason_retire(reason=reason, by=request.user)

    def save_model(self, request, obj, form, change):
        reason_admin_save(reason=obj, by=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or not obj.contacts.exists()


class CustomerEventInline(admin.TabularInline):
    model = CustomerEvent
    extra = 0
    autocomplete_fields = ["reason"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "external_ref", "email", "phone", "segment", "merged_into"]
    list_filter = ["segment", ("erased_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "external_ref", "email", "phone"]
    readonly_fields = ["merged_into", "erased_at", "created_at", "updated_at"]
    inlines = [CustomerEventInline]
    actions = ["merge", "erase"]
    action_form = MergeActionForm
    merge = _merge_action(Customer, customer_merge, "customers")
    erase = erasure_admin.erase_action

    def has_erase_permission(self, request) -> bool:
        return erasure_admin.may_erase(request.user)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.erased_at:  # an erased customer is not filled in again
            return [field.name for field in Customer._meta.fields]
        return super().get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        customer_admin_save(customer=obj, by=request.user)


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["position", "direction", "author", "sent_at", "text"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    """Contacts are corrected here by admins; every save redacts and keeps rollups current."""

    list_display = ["__str__", "occurred_at", "customer", "reason", "team", "rep", "road"]
    list_filter = ["channel", "direction", "road", "outcome"]
    list_select_related = ["customer", "reason__parent", "team", "rep"]
    search_fields = ["external_id", "customer__name", "customer__external_ref"]
    autocomplete_fields = ["customer", "reason", "team", "rep"]
    readonly_fields = ["source", "external_id", "repeat_of", "sentiment", "content_hash"]
    date_hierarchy = "occurred_at"
    inlines = [MessageInline]

    def save_model(self, request, obj, form, change):
        contact_admin_save(contact=obj, by=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Message:
            return super().save_formset(request, form, formset, change)
        changed = formset.save(commit=False)
        messages_admin_save(
            contact=form.instance,
            changed=changed,
            deleted=list(formset.deleted_objects),
            by=request.user,
        )
        formset.save_m2m()

    def has_add_permission(self, request) -> bool:
        return False  # contacts enter through ingestion, so they are redacted and counted

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # erasure has its own service


class RedactionPatternForm(forms.ModelForm):
    class Meta:
        model = RedactionPattern
        fields = ["name", "regex", "enabled"]

    def clean_regex(self):
        regex = self.cleaned_data["regex"]
        try:
            compile_extra_pattern(regex)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        return regex


@admin.register(RedactionPattern)
class RedactionPatternAdmin(admin.ModelAdmin):
    form = RedactionPatternForm
    list_display = ["name", "regex", "enabled", "created_at"]


@admin.register(ContactRollup)
class ContactRollupAdmin(admin.ModelAdmin):
    list_display = ["day", "reason_name", "channel", "team_name", "segment", "contacts",
                    "handle_seconds", "wait_seconds", "repeat_contacts", "negative_contacts",
                    "road_4", "fcr_yes", "fcr_no", "outcome_resolved"]  # fmt: skip
    list_filter = ["channel", "segment"]
    date_hierarchy = "day"

    def get_queryset(self, request):
        # The key holds plain ids (0 = none): the names come with the rows, in the same query.
        reasons = ContactReason.objects.filter(pk=OuterRef("reason_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                reason_label=Subquery(reasons.values("name")[:1]),
                reason_parent_label=Subquery(reasons.values("parent__name")[:1]),
                team_label=Subquery(Team.objects.filter(pk=OuterRef("team_id")).values("name")[:1]),
            )
        )

    @admin.display(description="Reason", ordering="reason_label")
    def reason_name(self, obj) -> str:
        if not obj.reason_id:
            return "(no reason)"
        if obj.reason_parent_label:
            return f"{obj.reason_parent_label} › {obj.reason_label}"
        return obj.reason_label or f"reason {obj.reason_id}"

    @admin.display(description="Team", ordering="team_label")
    def team_name(self, obj) -> str:
        return obj.team_label or ("(no team)" if not obj.team_id else f"team {obj.team_id}")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    """Saved mappings of every import (contacts, feedback items), each within its kind."""

    list_display = ["name", "kind", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """A record of each file import (import_contacts, import_feedback); written by the import
    commands only."""

    list_display = ["file_name", "kind", "status", "started_at", "finished_at", "rows_read",
                    "created", "updated", "unchanged", "rejected", "started_by"]  # fmt: skip
    list_filter = ["kind", "status"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


from contacts.ingest.tokens import (  # noqa: E402  (kept with the ingest-token admin below)
    ingest_token_check,
    ingest_token_create,
    ingest_token_revoke,
)
from contacts.models import IngestToken  # noqa: E402


class IngestTokenAddForm(forms.ModelForm):
    class Meta:
        model = IngestToken
        fields = ["name", "source"]
        help_texts = {
            "source": "Rows sent with this token are stored under this source, whatever they "
            "say: letters, digits, dots, dashes or underscores (e.g. genesys).",
        }

    def clean(self):
        cleaned_data = super().clean()
        try:
            ingest_token_check(name=cleaned_data.get("name"), source=cleaned_data.get("source"))
        except ValidationError as error:
            raise forms.ValidationError(error.message_dict) from None
        return cleaned_data


@admin.register(IngestToken)
class IngestTokenAdmin(admin.ModelAdmin):
    """Tokens for systems that send contacts, each bound to one source. The key is shown once,
    when the token is added; only its hash is stored. Tokens are revoked, never deleted."""

    list_display = ["name", "source", "key_hint", "created_by", "created_at", "last_used_at",
                    "revoked_at"]  # fmt: skip
    list_filter = ["source", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["created_by"]
    search_fields = ["name", "source", "key_hint"]
    readonly_fields = ["name", "source", "key_hint", "created_by", "created_at", "last_used_at",
                       "revoked_at"]  # fmt: skip
    exclude = ["key_hash"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = IngestTokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_exclude(self, request, obj=None):
        return self.exclude if obj is not None else None

    def get_fields(self, request, obj=None):
        return super().get_fields(request, obj) if obj is not None else ["name", "source"]

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on a token changes but its revocation (the action)
        token, key = ingest_token_create(name=obj.name, source=obj.source, by=request.user)
        obj.pk, obj.key_hash, obj.key_hint = token.pk, token.key_hash, token.key_hint
        obj.created_at = token.created_at
        self.message_user(
            request,
            f"The key of “{token.name}” is {key} — copy it now: it is not shown again. Send it "
            "as the header “Authorization: Ingest <key>”.",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens (their systems can no longer send)")
    def revoke(self, request, queryset):
        for token in queryset:
            ingest_token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoked tokens stay, so who sent what remains known


from contacts.budget import admin as budget_admin  # noqa: E402, F401  (touches, opt-outs)
from contacts.gestures import admin as gestures_admin  # noqa: E402, F401  (goodwill gestures)
from contacts.inbound import admin as inbound_admin  # noqa: E402, F401  (mailboxes, emails)
