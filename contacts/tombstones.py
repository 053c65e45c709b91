"""Tombstones: keyed hashes of an erased customer's identifiers that stop a re-import or an
email from bringing the person back. Only HMACs are stored, never the values; the key is
``settings.VOC_ERASURE_KEY``."""

import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from django.conf import settings
from django.db import connection

from contacts.models import ErasureTombstone
from voc.core.pg import array_literal

Kind = ErasureTombstone.Kind

ERASED_REASON = "belongs to an erased customer"


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
    return _digester()(kind, value)


def _digester() -> Callable[[str, str], str]:
    """digest() with the key read once: ingestion hashes up to four values a row."""
    key = settings.VOC_ERASURE_KEY.encode()

    def digest_with_key(kind: str, value: str) -> str:
        message = f"{kind}\n{normalise(kind, value)}".encode()
        # hmac.digest with a named algorithm: OpenSSL's one-shot HMAC, the fastest in Python.
        return hmac.digest(key, message, "sha256").hex()

    return digest_with_key


def contact_digest(source: str, external_id: str) -> str:
    return digest(Kind.CONTACT, f"{source}\n{external_id}")


def erased_message_id(message_id: str) -> str:
    """What an erased inbound email keeps of its Message-ID (which can carry a name or an
    address): a keyed hash, unique like the id and the same for a redelivery of it."""
    return "erased-" + digest("message_id", message_id)[:40]


def erased_digests(digests_by_kind: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    """The (kind, digest) pairs among these that are tombstoned: one query however many."""
    pairs = {(kind, value) for kind, values in digests_by_kind.items() for value in values}
    if not pairs:
        return set()
    wanted = list({value for _, value in pairs})
    if connection.vendor == "postgresql":  # one array parameter instead of an IN list
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT kind, digest FROM {ErasureTombstone._meta.db_table} "  # noqa: S608
                "WHERE digest = ANY(%s::text[])",
                [array_literal(wanted)],
            )
            found = cursor.fetchall()
    else:
        found = []
        for start in range(0, len(wanted), 900):  # SQLite's limit on parameters
            found.extend(
                ErasureTombstone.objects.filter(digest__in=wanted[start : start + 900]).values_list(
                    "kind", "digest"
                )
            )
    return {(kind, value) for kind, value in found if (kind, value) in pairs}


def email_is_erased(address: str) -> bool:
    if not address:
        return False
    return ErasureTombstone.objects.filter(
        kind=Kind.EMAIL, digest=digest(Kind.EMAIL, address)
    ).exists()


class IdentifiedRecord(Protocol):
    """What tombstones read of a parsed contact (contacts.ingest's ContactRecord)."""

    @property
    def source(self) -> str: ...
    @property
    def external_id(self) -> str: ...
    @property
    def customer_ref(self) -> str: ...
    @property
    def customer_email(self) -> str: ...
    @property
    def customer_phone(self) -> str: ...
    @property
    def erasure_keys(self) -> tuple[tuple[str, str, str], ...]: ...


def record_erasure_keys(record: IdentifiedRecord) -> tuple[tuple[str, str, str], ...]:
    """(field, kind, HMAC) of what an erasure tombstones, for one parsed ContactRecord: its
    contact's (source, external_id) ("external_id") and its customer's ref, email and phone
    ("customer"). The file import computes these in its parsing processes."""
    hash_of = _digester()
    # Plain strings, not the choices enum: enum members hash in Python, a batch does it
    # tens of thousands of times.
    contact, ref, email, phone = _PLAIN_KINDS
    keys = [("external_id", contact, hash_of(contact, f"{record.source}\n{record.external_id}"))]
    if record.customer_ref:
        keys.append(("customer", ref, hash_of(ref, record.customer_ref)))
    if record.customer_email:
        keys.append(("customer", email, hash_of(email, record.customer_email)))
    if record.customer_phone:
        keys.append(("customer", phone, hash_of(phone, record.customer_phone)))
    return tuple(keys)


_PLAIN_KINDS = tuple(
    str(kind.value) for kind in (Kind.CONTACT, Kind.CUSTOMER_REF, Kind.EMAIL, Kind.PHONE)
)


def tombstones_exist() -> bool:
    """Whether any customer has been erased. Until one is, there is nothing to check a row
    against, and ingestion need not hash its identifiers at all (two to four HMACs a row)."""
    return ErasureTombstone.objects.exists()


def erased_rows(records: Sequence[tuple[int, IdentifiedRecord]]) -> dict[int, str]:
    """For ingestion: {row index: field} of the (index, ContactRecord) pairs that belong to an
    erased customer, by their contact's (source, external_id) ("external_id") or by the
    customer's ref, email or phone ("customer"). One query for the whole batch, or a single
    cheap one while no tombstone exists. Call it holding the erasure lock (shared), so no
    erasure can commit between this check and the batch's writes."""
    if not tombstones_exist():
        return {}
    wanted: list[tuple[int, str, str, str]] = []  # index, field, kind, digest
    for index, record in records:
        keys = record.erasure_keys or record_erasure_keys(record)
        wanted.extend((index, field, kind, value) for field, kind, value in keys)
    by_kind: dict[str, list[str]] = {}
    for _, _, kind, value in wanted:
        by_kind.setdefault(kind, []).append(value)
    erased = erased_digests(by_kind)
    if not erased:
        return {}
    rows: dict[int, str] = {}
    for index, field, kind, value in wanted:
        if (kind, value) in erased:
            rows.setdefault(index, field)  # the contact's own key first, then the customer
    return rows


def identity_erased(*, external_ref: str = "", email: str = "", phone: str = "") -> str | None:
    """The first of these customer identifiers that is tombstoned ("external_ref", "email" or
    "phone"), or None: for paths that create or change a customer outside ingestion."""
    wanted = [
        (name, kind, digest(kind, value))
        for name, kind, value in (
            ("external_ref", Kind.CUSTOMER_REF, external_ref or ""),
            ("email", Kind.EMAIL, email or ""),
            ("phone", Kind.PHONE, phone or ""),
        )
        if value.strip()
    ]
    by_kind: dict[str, list[str]] = {}
    for _, kind, value in wanted:
        by_kind.setdefault(kind, []).append(value)
    erased = erased_digests(by_kind)
    return next((name for name, kind, value in wanted if (kind, value) in erased), None)


# An advisory-lock key of VoC's own (any fixed 64-bit number no other code uses).
_ERASURE_LOCK = 0x766F_6365_7261_7365  # "vocerase"


def hold_erasure_lock_shared() -> None:
    """Call at the start of a transaction that checks tombstones and then writes a customer's
    data (ingestion, inbound threading). Many such writers run together; an erasure waits for
    them and they wait for it, so none can check just before an erasure commits and write just
    after it. PostgreSQL only: SQLite runs one writing transaction at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [_ERASURE_LOCK])


def hold_erasure_lock_exclusive() -> None:
    """Taken by the erasure itself, first thing in its transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ERASURE_LOCK])
