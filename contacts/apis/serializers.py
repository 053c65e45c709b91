"""Output serializers shared by the contacts REST API's operations."""

from django.db.models import Prefetch
from rest_framework import serializers

from contacts.apis.common import ContactDirectionField, MessageDirectionField, SegmentField
from contacts.models import Contact, ContactReason, Customer, Message

# --- output serializers -------------------------------------------------------------------


class CustomerOutputSerializer(serializers.ModelSerializer):
    segment = SegmentField()

    class Meta:
        model = Customer
        fields = ["id", "external_ref", "name", "email", "phone", "segment", "erased_at",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["erased_at"]
        ref_name = "Customer"
        extra_kwargs = {"erased_at": {"help_text": "Set when the customer was erased; identity "
                                      "fields are then blank."}}  # fmt: skip


class ReasonOutputSerializer(serializers.ModelSerializer):
    path = serializers.CharField(read_only=True, help_text="“Parent › Reason”")
    active = serializers.BooleanField(source="is_active", read_only=True)
    is_complaint = serializers.BooleanField(
        read_only=True, help_text="Marked a complaint, itself or through its parent."
    )

    class Meta:
        model = ContactReason
        fields = ["id", "name", "path", "parent", "department", "avoidable", "complaint",
                  "is_complaint", "active", "retired_at", "merged_into"]  # fmt: skip
        ref_name = "Reason"


class MessageOutputSerializer(serializers.ModelSerializer):
    direction = MessageDirectionField()

    class Meta:
        model = Message
        fields = ["id", "external_id", "position", "direction", "author", "sent_at", "text"]
        ref_name = "Message"


class ContactOutputSerializer(serializers.ModelSerializer):
    direction = ContactDirectionField()
    reason_path = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Contact
        fields = [
            "id", "source", "external_id", "channel", "direction", "occurred_at",
            "occurred_date_only", "customer", "customer_segment", "rep", "team", "reason",
            "reason_path", "tags", "subject", "notes", "handle_seconds", "wait_seconds", "outcome", "first_contact_resolution", "road", "sentiment", "repeat_of",
            "created_at", "updated_at",
        ]  # fmt: skip
        ref_name = "Contact"

    def get_reason_path(self, contact) -> str | None:
        return contact.reason.path if contact.reason_id else None


class ContactDetailOutputSerializer(ContactOutputSerializer):
    customer_detail = CustomerOutputSerializer(source="customer", read_only=True, allow_null=True)
    messages = MessageOutputSerializer(many=True, read_only=True)

    class Meta(ContactOutputSerializer.Meta):
        fields = [*ContactOutputSerializer.Meta.fields, "customer_detail", "messages"]
        ref_name = "ContactDetail"


def _contact_detail(contact_id: int) -> Contact:
    """One contact with everything its detail shows, in three queries."""
    return (
        Contact.objects.select_related("customer", "reason__parent")
        .prefetch_related(Prefetch("messages", queryset=Message.objects.order_by("position", "id")))
        .get(id=contact_id)
    )
