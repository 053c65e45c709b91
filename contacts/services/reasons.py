"""The contact-reason taxonomy: creating, renaming, moving, retiring and merging reasons."""

from collections.abc import Mapping
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from contacts.changes import contact_change
from contacts.ingest.records import REASON_SEPARATOR
from contacts.models import Contact, ContactReason, CustomerEvent
from contacts.services.text import TextCleaner
from voc.core.audit import Actor, audit_record, field_changes
from voc.core.errors import Conflict
from voc.people.models import Department


def active_reason(reason_id: int) -> ContactReason:
    """The reason with this id if a rep may still pick it; a Conflict otherwise."""
    reason = ContactReason.objects.filter(
        id=reason_id, retired_at__isnull=True, merged_into__isnull=True
    ).first()
    if reason is None:
        raise Conflict({"reason": "There is no active reason with this id."})
    return reason


def reason_resolve_merged(reason: ContactReason | None) -> ContactReason | None:
    """A merged reason lives on in the reason it was merged into."""
    while reason is not None and reason.merged_into_id:
        reason = ContactReason.objects.get(id=reason.merged_into_id)
    return reason


def _reason_name(name: str) -> str:
    # Reason names are shown to every user: redacted like any stored text.
    name = TextCleaner().clean(name, field="name", max_length=120)
    if not name:
        raise ValidationError({"name": "Give the reason a name."})
    if REASON_SEPARATOR.search(name):
        raise ValidationError(
            {"name": "A name can't contain ›, > or /: they separate a parent from its reason."}
        )
    return name


def _check_reason_tree(
    *, reason: ContactReason | None, name: str, parent: ContactReason | None
) -> None:
    if parent is not None:
        if reason is not None and parent.pk == reason.pk:
            raise Conflict({"parent": "A reason can't be its own parent."})
        if parent.parent_id is not None:
            raise Conflict(
                {"parent": "The parent must be a top-level reason (two levels at most)."}
            )
        if parent.merged_into_id is not None:
            raise Conflict({"parent": "That reason was merged into another; use that one."})
        if reason is not None and reason.pk and reason.children.exists():
            raise Conflict({"parent": "This reason has reasons under it, so it stays top-level."})
    siblings = ContactReason.objects.annotate(lname=Lower("name")).filter(
        lname=name.lower(), parent=parent
    )
    if reason is not None and reason.pk:
        siblings = siblings.exclude(pk=reason.pk)
    if siblings.exists():
        raise Conflict({"name": "A reason with this name already exists there."})


class _ReasonValues(TypedDict, total=False):
    name: str
    parent: ContactReason | None
    department: Department | None
    avoidable: bool
    complaint: bool


def _reason_refs(changes: Mapping[str, Any]) -> _ReasonValues:
    """The parent and department among ``changes``, as objects (given as objects or ids)."""
    refs: _ReasonValues = {}
    if "parent" in changes:
        parent = changes["parent"]
        if parent is not None and not isinstance(parent, ContactReason):
            parent = ContactReason.objects.filter(id=parent).first()
            if parent is None:
                raise Conflict({"parent": "There is no reason with this id."})
        refs["parent"] = parent
    if "department" in changes:
        department = changes["department"]
        if department is not None and not isinstance(department, Department):
            department = Department.objects.filter(id=department).first()
            if department is None:
                raise Conflict({"department": "There is no department with this id."})
        refs["department"] = department
    return refs


def reason_create(
    *,
    name: str,
    by: Actor,
    parent: ContactReason | int | None = None,
    department: Department | int | None = None,
    avoidable: bool = False,
    complaint: bool = False,
) -> ContactReason:
    name = _reason_name(name)
    refs = _reason_refs({"parent": parent, "department": department})
    try:
        with transaction.atomic():
            _check_reason_tree(reason=None, name=name, parent=refs["parent"])
            reason = ContactReason.objects.create(
                name=name, avoidable=avoidable, complaint=complaint, **refs
            )
            audit_record(
                by=by,
                action="reason.create",
                target=reason,
                changes={
                    "name": [None, name],
                    "avoidable": [None, avoidable],
                    "complaint": [None, complaint],
                },
            )
            return reason
    except IntegrityError:
        raise Conflict({"name": "A reason with this name already exists there."}) from None


def reason_update(*, reason: ContactReason, changes: Mapping[str, Any], by: Actor) -> ContactReason:
    """Change some of name, parent, department, avoidable and complaint. Contacts keep
    pointing at the reason, so history follows the change."""
    values = _reason_refs(changes)
    if "name" in changes:
        values["name"] = _reason_name(changes["name"])
    if "avoidable" in changes:
        values["avoidable"] = changes["avoidable"]
    if "complaint" in changes:
        values["complaint"] = changes["complaint"]
    if not values:
        return reason
    name = values.get("name", reason.name)
    parent = values.get("parent", reason.parent)
    before = {attribute: getattr(reason, attribute) for attribute in values}
    try:
        with transaction.atomic():
            _check_reason_tree(reason=reason, name=name, parent=parent)
            for attribute, value in values.items():
                setattr(reason, attribute, value)
            reason.save(update_fields=list(values))
            audit_record(
                by=by, action="reason.update", target=reason, changes=field_changes(before, values)
            )
    except IntegrityError:
        raise Conflict({"name": "A reason with this name already exists there."}) from None
    return reason


def reason_admin_save(*, reason: ContactReason, by: Actor) -> ContactReason:
    """Save a reason an admin created or changed in the Django admin: its name redacted like
    every stored text (reasons are shown to every user), the change in its history."""
    reason.name = TextCleaner().redact(reason.name)
    fields = ["name", "parent_id", "department_id", "avoidable", "complaint"]
    before = (
        ContactReason.objects.filter(pk=reason.pk).values(*fields).first() if reason.pk else None
    )
    with transaction.atomic():
        reason.save()
        audit_record(
            by=by,
            action="reason.update" if before else "reason.create",
            target=reason,
            changes=field_changes(before or {}, {f: getattr(reason, f) for f in fields}),
        )
    return reason


def reason_retire(*, reason: ContactReason, by: Actor) -> ContactReason:
    """Hide a reason from pickers; its contacts and history stay as they are."""
    if reason.retired_at is None:
        with transaction.atomic():
            reason.retired_at = timezone.now()
            reason.save(update_fields=["retired_at"])
            audit_record(by=by, action="reason.retire", target=reason)
    return reason


@transaction.atomic
def reason_merge(*, source: ContactReason, target: ContactReason, by: Actor) -> int:
    """Move every contact of ``source`` to ``target``; ``source`` stays as a pointer so history
    and later imports that name it resolve to ``target``. Returns the contacts moved."""
    if source.pk == target.pk:
        raise ValidationError("A reason cannot be merged into itself.")
    if target.merged_into_id:
        raise ValidationError("Merge into a reason that has not itself been merged.")
    if ContactReason.objects.filter(parent=source).exists():
        raise ValidationError("Merge or move this reason's children first.")
    contact_ids = list(Contact.objects.filter(reason=source).values_list("id", flat=True))
    # One entry for the merge (below), not one per contact moved.
    with contact_change(contact_ids, by=by):
        Contact.objects.filter(id__in=contact_ids).update(reason=target)
    CustomerEvent.objects.filter(reason=source).update(reason=target)
    ContactReason.objects.filter(merged_into=source).update(merged_into=target)
    source.merged_into = target
    source.retired_at = source.retired_at or timezone.now()
    source.save(update_fields=["merged_into", "retired_at"])
    audit_record(
        by=by,
        action="reason.merge",
        target=source,
        changes={"merged_into": [None, target.pk], "contacts_moved": len(contact_ids)},
    )
    return len(contact_ids)
