"""The one audit trail: who did what to which object, when, what changed and why.

Services call :func:`audit_record` inside their own transaction, next to the change (Zulip's
``acting_user`` idea): the entry and the change commit or roll back together, and no signal
writes behind a service's back. Every write service takes ``by=``, which is either a person
(a user) or a :class:`SystemActor` naming the part of VoC that acted (ingestion, the
sentiment scorer, a sweep). People's actions get an entry each; machine ingestion records one
entry per batch, with counts.

Values in ``changes`` may be personal (notes, names), so an entry names the customer it is
about; erasure keeps the entry (who did what, when) and drops those values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Required, TypedDict

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.utils import timezone

from voc.core.models import AuditEntry

ERASED_VALUE = "[erased]"


@dataclass(frozen=True)
class SystemActor:
    """A part of VoC acting on its own: ``SystemActor("ingest:crm")``."""

    name: str

    def __str__(self) -> str:
        return self.name


# The named actors of the platform; apps may make others with a name of their own.
INGEST = SystemActor("ingest")
SENTIMENT = SystemActor("sentiment")
INBOUND_EMAIL = SystemActor("inbound-email")
SWEEP = SystemActor("sweep")

# A user (voc.people.models.User, named by Django's base class: voc.core can't import people)
# or a SystemActor.
Actor = AbstractBaseUser | SystemActor


class ActorFields(TypedDict):
    actor: AbstractBaseUser | None
    actor_name: str


class AuditEntryArgs(TypedDict, total=False):
    """One entry for audit_record_many: audit_record's arguments other than by= and at=."""

    action: Required[str]
    target: models.Model | None
    changes: Mapping[str, object] | None
    why: str
    customer_id: int | None


# How an object's history names an action: "changed the contact" rather than "contact.update".
# Apps add theirs with register_action_labels (from AppConfig.ready).
_action_labels: dict[str, str] = {}


def register_action_labels(labels: Mapping[str, str]) -> None:
    _action_labels.update(labels)


def action_label(action: str) -> str:
    return _action_labels.get(action, action)


def actor_fields(by: Actor) -> ActorFields:
    """The actor columns of an entry for ``by``."""
    if by is None:
        raise ValueError("Say who acted: pass a user or a SystemActor as by=.")
    if isinstance(by, SystemActor):
        return {"actor": None, "actor_name": by.name[:150]}
    if not getattr(by, "pk", None):
        raise ValueError("An acting user must be saved.")
    return {"actor": by, "actor_name": by.get_username()[:150]}


def target_label(target: models.Model | type[models.Model]) -> str:
    return target._meta.label_lower


def audit_record(
    *,
    by: Actor,
    action: str,
    target: models.Model | None = None,
    changes: Mapping[str, object] | None = None,
    why: str = "",
    customer_id: int | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Record one action. ``changes`` is ``{field: [before, after]}`` for an edit, or counts
    for a batch; values are made JSON-safe (model instances by their pk, dates as ISO)."""
    return AuditEntry.objects.create(
        at=at or timezone.now(),
        action=action,
        target_type=target_label(target) if target is not None else "",
        target_id=target.pk if target is not None else None,
        customer_id=customer_id,
        changes=_json_safe(dict(changes or {})),
        why=why[:500],
        **actor_fields(by),
    )


def audit_record_many(
    entries: Iterable[AuditEntryArgs], *, by: Actor, at: datetime | None = None
) -> int:
    """Several entries by one actor at one time (a bulk action a person took, such as merging
    a reason's contacts), in one INSERT. Each dict holds audit_record's other arguments."""
    when = at or timezone.now()
    actor = actor_fields(by)
    rows = [
        AuditEntry(
            at=when,
            action=entry["action"],
            target_type=(
                target_label(target) if (target := entry.get("target")) is not None else ""
            ),
            target_id=target.pk if target is not None else None,
            customer_id=entry.get("customer_id"),
            changes=_json_safe(dict(entry.get("changes") or {})),
            why=str(entry.get("why", ""))[:500],
            **actor,
        )
        for entry in entries
    ]
    AuditEntry.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def field_changes(
    before: Mapping[str, object], after: Mapping[str, object]
) -> dict[str, list[object]]:
    """{field: [before, after]} for the fields whose value differs."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def audit_history(*, target: models.Model, limit: int = 50) -> list[AuditEntry]:
    """The entries about one object, newest first, each with its ``label`` for a page."""
    entries = list(
        AuditEntry.objects.filter(target_type=target_label(target), target_id=target.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
    for entry in entries:
        # A display attribute for the page, not a field of the model.
        entry.label = action_label(entry.action)  # type: ignore[attr-defined]
    return entries


def audit_forget_customers(*, customer_ids: Iterable[int]) -> int:
    """Erasure: keep each entry about these customers (who did what, when) and replace every
    value it holds with ERASED_VALUE; ``why`` goes too (it may quote the customer)."""
    ids = list(customer_ids)
    forgotten = 0
    entries = AuditEntry.objects.filter(customer_id__in=ids).only("id", "changes")
    for entry in entries.iterator(chunk_size=1000):
        entry.changes = {
            name: [ERASED_VALUE, ERASED_VALUE] if isinstance(value, list) else ERASED_VALUE
            for name, value in (entry.changes or {}).items()
        }
        entry.why = ""
        entry.save(update_fields=["changes", "why"])
        forgotten += 1
    return forgotten


def _json_safe(value: object) -> Any:  # JSON: whatever the changes held
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_json_safe(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
