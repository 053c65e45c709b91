"""Tombstones: keyed hashes of an erased customer's identifiers that stop a re-import or an
email from bringing the person back. Only HMACs are stored, never the values; the key is
``settings.VOC_ERASURE_KEY``."""

import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings

from contacts.models import ErasureTombstone

Kind = ErasureTombstone.Kind


def normalise(kind: str, value: str) -> str:
    """The form a value is hashed in, so "Ann@Example.com " and "ann@example.com" match.
    Phones are expected in E.164 already (ingestion normalises them before matching)."""
    value = value.strip()
    if kind == Kind.EMAIL:
        return value.lower()
    if kind == Kind.PHONE:
        return "+" + "".join(ch for ch in value if ch.isdigit())
    return value


def digest(kind: str, value: str) -> str:
    message = f"{kind}\n{normalise(kind, value)}".encode()
    return hmac.new(settings.VOC_ERASURE_KEY.encode(), message, hashlib.sha256).hexdigest()


def contact_digest(source: str, external_id: str) -> str:
    return digest(Kind.CONTACT, f"{source}\n{external_id}")


def erased_digests(digests_by_kind: dict[str, Iterable[str]]) -> set[tuple[str, str]]:
    """The (kind, digest) pairs among these that are tombstoned: one query however many."""
    pairs = {(kind, value) for kind, values in digests_by_kind.items() for value in values}
    if not pairs:
        return set()
    wanted = {value for _, value in pairs}
    found = ErasureTombstone.objects.filter(digest__in=wanted).values_list("kind", "digest")
    return {pair for pair in found if pair in pairs}


def email_is_erased(address: str) -> bool:
    if not address:
        return False
    return ErasureTombstone.objects.filter(
        kind=Kind.EMAIL, digest=digest(Kind.EMAIL, address)
    ).exists()
