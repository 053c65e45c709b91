"""Business settings: the numbers VoC's rules run on (currency, cost per minute, listening
targets, cool-downs, allowances), edited by admins in the app and audited.

Environment variables stay for deployment (hosts, secrets, services). A value that a manager
might ask an admin to change is a business setting instead: it is declared once in code (key,
kind, default, bounds, group) and the database holds only the values an admin has set
(``BusinessSettingValue``), so a fresh install runs on the declared defaults.

Reads::

    business_setting("cost_per_minute")                  # Decimal("1.00") until an admin sets it
    business_setting_for("make_it_right_per_gesture", user=rep)
    allowance_for(rep)                                      # Allowance(per_gesture, per_month, currency)

A setting declared with ``role_defaults`` has a value per role, and a team's value wins over
its members' role (team > role > declared default). Writes go through
:func:`business_setting_set` and :func:`business_setting_reset`, which validate and record an
audit entry with the before and after values.

Reads are cheap: each thread keeps the stored values of one load (one small query), dropped at
the start of every request and Celery task, after a write commits, and after
``CACHE_MAX_AGE_SECONDS`` for long-running loops outside both. Another process sees a change
from its next request or task.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from voc.core.audit import Actor, SystemActor, audit_record, target_label
from voc.core.models import AuditEntry, BusinessSettingValue

# --- kinds: how a value is checked, stored as JSON and read back -------------------------------


class Kind:
    """A type of setting value. ``clean`` takes what a form or a caller gives (text or a Python
    value) and returns the value or raises ValidationError with a message for the page;
    ``from_json`` reads a stored value back without re-checking its bounds (a bound tightened
    in code later must not break every read)."""

    input_mode = "text"  # the keyboard a phone shows for the field
    money = False  # shown with the currency

    def clean(self, raw: Any) -> Any:
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        return value

    def from_json(self, stored: Any) -> Any:
        return stored


@dataclass(frozen=True)
class WholeNumber(Kind):
    min_value: int
    max_value: int
    input_mode = "numeric"

    def clean(self, raw: Any) -> int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d{1,12}\s*", raw):
            value = int(raw)
        else:
            raise ValidationError("Enter a whole number.", code="invalid")
        _check_bounds(value, self.min_value, self.max_value)
        return value

    def from_json(self, stored: Any) -> int:
        return int(stored)


@dataclass(frozen=True)
class Amount(Kind):
    """A decimal number with at most ``places`` decimals, kept as text in JSON (no float)."""

    min_value: Decimal
    max_value: Decimal
    places: int = 2
    money: bool = False
    input_mode = "decimal"

    def clean(self, raw: Any) -> Decimal:
        if isinstance(raw, Decimal | int) and not isinstance(raw, bool):
            value = Decimal(raw)
        elif isinstance(raw, str) and re.fullmatch(r"\s*[+-]?(\d{1,15}(\.\d*)?|\.\d+)\s*", raw):
            value = Decimal(raw.strip())
        else:
            raise ValidationError("Enter a number such as 1.25.", code="invalid")
        if not value.is_finite():
            raise ValidationError("Enter a number such as 1.25.", code="invalid")
        _check_bounds(value, self.min_value, self.max_value)
        if value != value.quantize(self._step, rounding=ROUND_DOWN):
            raise ValidationError(
                f"Use at most {self.places} decimal places.", code="max_decimal_places"
            )
        return value.quantize(self._step)

    @property
    def _step(self) -> Decimal:
        return Decimal(1).scaleb(-self.places)

    def to_json(self, value: Decimal) -> str:
        return str(value)

    def from_json(self, stored: Any) -> Decimal:
        return Decimal(str(stored))


# Active ISO 4217 currency codes (list one, 2025), less funds, metals and testing codes.
_ISO_4217_CODES = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF
    KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
    MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD
    SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH
    UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
ISO_4217 = frozenset(_ISO_4217_CODES.split())


@dataclass(frozen=True)
class Currency(Kind):
    def clean(self, raw: Any) -> str:
        code = raw.strip().upper() if isinstance(raw, str) else ""
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValidationError("Enter a three-letter currency code such as EUR.", code="invalid")
        if code not in ISO_4217:
            raise ValidationError(f"{code} is not an ISO 4217 currency code.", code="unknown")
        return code


def _check_bounds(value: Any, low: Any, high: Any) -> None:
    if value < low:
        raise ValidationError(f"Enter {low} or more.", code="min_value")
    if value > high:
        raise ValidationError(f"Enter {high} or less.", code="max_value")


# --- declarations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessSetting:
    """One setting, declared in code. With ``role_defaults`` it has a value per role (the roles
    it names; any other role gets ``default``) and teams may override their members' role."""

    key: str
    label: str
    group: str
    kind: Kind
    default: Any
    help_text: str = ""
    unit: str = ""
    role_defaults: Mapping[str, Any] | None = None

    @property
    def per_role(self) -> bool:
        return self.role_defaults is not None

    @property
    def roles(self) -> list[str]:
        return list(self.role_defaults or {})

    def default_for(self, role: str) -> Any:
        return (self.role_defaults or {}).get(role, self.default)


_registry: dict[str, BusinessSetting] = {}


def register_business_setting(setting: BusinessSetting) -> BusinessSetting:
    """Declare a setting (at import; a later app from its AppConfig.ready()). The defaults
    must pass the setting's own checks, so a typo in a declaration fails at start-up."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,99}", setting.key):
        raise ValueError(f"A business setting key is lower_snake_case: {setting.key!r}")
    known = _registry.get(setting.key)
    if known is not None and known != setting:
        raise ValueError(f"The business setting {setting.key!r} is declared twice.")
    for default in [setting.default, *(setting.role_defaults or {}).values()]:
        if setting.kind.clean(setting.kind.to_json(default)) != default:
            raise ValueError(f"{setting.key}: the default {default!r} is not a clean value.")
    _registry[setting.key] = setting
    return setting


def business_setting_declarations() -> list[BusinessSetting]:
    """Every declared setting, in the order declared (the page's order)."""
    return list(_registry.values())


def business_setting_declaration(key: str) -> BusinessSetting:
    try:
        return _registry[key]
    except KeyError:
        raise LookupError(f"No business setting is declared as {key!r}.") from None


# --- reads ----------------------------------------------------------------------------------

CACHE_MAX_AGE_SECONDS = 30.0
Scope = tuple[str, str, int | None]  # (key, role, team id)


class _Cache(threading.local):
    values: dict[Scope, Any] | None = None
    loaded_at = 0.0
    # Set by a write until its transaction commits: a load inside that transaction could see a
    # value that a rollback then removes, so nothing is kept meanwhile.
    writes_pending = False


_cache = _Cache()


def business_settings_forget_cached(**_signal_kwargs: Any) -> None:
    """Drop this thread's stored values (on request_started, task_prerun and after a write)."""
    _cache.values = None
    _cache.writes_pending = False


def _stored() -> dict[Scope, Any]:
    if _cache.values is not None and time.monotonic() - _cache.loaded_at < CACHE_MAX_AGE_SECONDS:
        return _cache.values
    values: dict[Scope, Any] = {
        (key, role, team_id): value
        for key, role, team_id, value in BusinessSettingValue.objects.values_list(
            "key", "role", "team_id", "value"
        )
    }
    if not _cache.writes_pending:
        _cache.values, _cache.loaded_at = values, time.monotonic()
    return values


def business_setting(key: str) -> Any:
    """A setting's value for everyone: the one an admin set, else the declared default."""
    setting = business_setting_declaration(key)
    if setting.per_role:
        raise TypeError(f"{key} has a value per role and team: use business_setting_for().")
    stored = _stored()
    scope = (key, "", None)
    return setting.kind.from_json(stored[scope]) if scope in stored else setting.default


def business_settings() -> dict[str, Any]:
    """Every setting that has one value for everyone, by key."""
    return {s.key: business_setting(s.key) for s in _registry.values() if not s.per_role}


def business_setting_for(
    key: str, *, user: Any = None, role: str = "", team_id: int | None = None
) -> Any:
    """A setting's value for a user (their role and team), or for a role and team given
    directly: the team's value wins over the role's, which wins over the declared default.
    A setting without per-role values answers its one value."""
    setting = business_setting_declaration(key)
    if not setting.per_role:
        return business_setting(key)
    if user is not None:
        role, team_id = getattr(user, "role", "") or "", getattr(user, "team_id", None)
    stored = _stored()
    for scope in ((key, "", team_id), (key, role, None)):
        if scope in stored and (scope[1] or scope[2] is not None):
            return setting.kind.from_json(stored[scope])
    return setting.default_for(role)


@dataclass(frozen=True)
class Allowance:
    """What a person may spend making it right without a manager's approval."""

    per_gesture: Decimal
    per_month: Decimal
    currency: str


def allowance_for(user: Any) -> Allowance:
    """The make-it-right allowance of a user: their team's, else their role's."""
    return Allowance(
        per_gesture=business_setting_for("make_it_right_per_gesture", user=user),
        per_month=business_setting_for("make_it_right_per_month", user=user),
        currency=business_setting("currency"),
    )


@dataclass(frozen=True)
class ScopedValue:
    """A setting's value at one scope, as the settings page lists it."""

    scope: str  # "" (everyone), "role:rep" or "team:12": what the page's forms post back
    label: str
    value: Any
    is_set: bool  # an admin set it; otherwise the declared default applies
    team: models.Model | None = None


@dataclass(frozen=True)
class SettingRow:
    setting: BusinessSetting
    values: list[ScopedValue]
    unit: str


def role_labels() -> dict[str, str]:
    """Role names for pages, from the user model (voc.core does not import people)."""
    return dict(get_user_model()._meta.get_field("role").choices or [])


def team_model() -> type[models.Model]:
    return BusinessSettingValue._meta.get_field("team").related_model


def business_setting_rows(keys: list[str] | None = None) -> list[SettingRow]:
    """Declared settings with their values at every scope (for everyone, per role, per team)."""
    stored = _stored()
    declared = [business_setting_declaration(k) for k in keys] if keys else list(_registry.values())
    team_ids = {t for (k, _, t) in stored if t is not None and k in {s.key for s in declared}}
    teams = (
        {t.pk: t for t in team_model()._default_manager.filter(pk__in=team_ids)} if team_ids else {}
    )
    labels = role_labels()
    currency = business_setting("currency")
    rows = []
    for setting in declared:
        values = []
        if not setting.per_role:
            values.append(_scoped(setting, stored, "", "Everyone", (setting.key, "", None)))
        else:
            for role in setting.roles:
                label = labels.get(role, role.title())
                values.append(
                    _scoped(setting, stored, f"role:{role}", label, (setting.key, role, None))
                )
            overrides = [teams[t] for (k, _, t) in stored if k == setting.key and t in teams]
            for team in sorted(overrides, key=str):
                scope = (setting.key, "", team.pk)
                values.append(
                    _scoped(setting, stored, f"team:{team.pk}", f"Team {team}", scope, team)
                )
        unit = f"{currency} {setting.unit}".strip() if setting.kind.money else setting.unit
        rows.append(SettingRow(setting=setting, values=values, unit=unit))
    return rows


def _scoped(
    setting: BusinessSetting,
    stored: dict[Scope, Any],
    scope: str,
    label: str,
    key: Scope,
    team: models.Model | None = None,
) -> ScopedValue:
    is_set = key in stored
    value = setting.kind.from_json(stored[key]) if is_set else setting.default_for(key[1])
    return ScopedValue(scope=scope, label=label, value=value, is_set=is_set, team=team)


def business_setting_history(key: str, *, limit: int = 50) -> list[AuditEntry]:
    """The audit entries of one setting at every scope, newest first (an override removed
    since keeps its entries)."""
    return list(
        AuditEntry.objects.filter(
            target_type=target_label(BusinessSettingValue), changes__setting=key
        )
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


# --- writes ---------------------------------------------------------------------------------


@transaction.atomic
def business_setting_set(
    *, key: str, value: Any, by: Actor, why: str = "", role: str = "", team: Any = None
) -> Any:
    """Set a setting for everyone, or (a per-role setting) for a role or a team. Returns the
    clean value. ValidationError: ``{"value": ...}`` for a bad value, plain for a bad scope.
    Setting the value it already has changes nothing and records nothing."""
    setting = business_setting_declaration(key)
    _check_scope(setting, role=role, team=team)
    try:
        clean = setting.kind.clean(value)
    except ValidationError as exc:
        raise ValidationError({"value": exc.messages}) from None
    after = setting.kind.to_json(clean)
    row = _locked_row(key, role, team)
    before = row.value if row is not None else _fallback(setting, role, team)
    if before == after:
        return clean
    fields = {"value": after, "updated_at": timezone.now(), "updated_by": _user_or_none(by)}
    created = False
    if row is None:
        try:
            with transaction.atomic():  # a savepoint: another admin may set this scope first
                row = BusinessSettingValue.objects.create(key=key, role=role, team=team, **fields)
            created = True
        except IntegrityError:
            row = _locked_row(key, role, team)
            assert row is not None
            before = row.value
    if not created:
        for name, field_value in fields.items():
            setattr(row, name, field_value)
        row.save(update_fields=list(fields))
    audit_record(
        by=by,
        action="business_setting.set",
        target=row,
        changes={"setting": key, "scope": _scope_label(role, team), "value": [before, after]},
        why=why,
    )
    _forget_after_write()
    return clean


@transaction.atomic
def business_setting_reset(
    *, key: str, by: Actor, why: str = "", role: str = "", team: Any = None
) -> Any:
    """Remove the value an admin set at this scope: the declared default applies again (for a
    team, its members' role values). Returns the value that now applies; a no-op when none
    was set."""
    setting = business_setting_declaration(key)
    _check_scope(setting, role=role, team=team)
    row = _locked_row(key, role, team)
    after = _fallback(setting, role, team)
    if row is None:
        return None if after is None else setting.kind.from_json(after)
    audit_record(
        by=by,
        action="business_setting.reset",
        target=row,
        changes={"setting": key, "scope": _scope_label(role, team), "value": [row.value, after]},
        why=why,
    )
    row.delete()
    _forget_after_write()
    return None if after is None else setting.kind.from_json(after)


def _check_scope(setting: BusinessSetting, *, role: str, team: Any) -> None:
    if not setting.per_role:
        if role or team is not None:
            raise ValidationError(f"{setting.label} has one value for everyone, not per role.")
        return
    if bool(role) == (team is not None):
        raise ValidationError(f"Say which role or which team this {setting.label} is for.")
    if role and role not in setting.roles:
        roles = ", ".join(setting.roles)
        raise ValidationError(f"{setting.label} is set for these roles only: {roles}.")
    if team is not None and not getattr(team, "pk", None):
        raise ValidationError("That team does not exist.")


def _locked_row(key: str, role: str, team: Any) -> BusinessSettingValue | None:
    return (
        BusinessSettingValue.objects.select_for_update()
        .filter(key=key, role=role, team=team)
        .first()
    )


def _fallback(setting: BusinessSetting, role: str, team: Any) -> Any:
    """What applies at a scope with no stored value: a team has none of its own (its members
    fall back to their roles), a role or everyone the declared default."""
    if team is not None:
        return None
    return setting.kind.to_json(setting.default_for(role))


def _scope_label(role: str, team: Any) -> str:
    if team is not None:
        return f"team {team}"
    return f"role {role}" if role else "everyone"


def _user_or_none(by: Actor) -> Any:
    return None if isinstance(by, SystemActor) else by


def _forget_after_write() -> None:
    _cache.values = None
    _cache.writes_pending = True
    transaction.on_commit(business_settings_forget_cached)


# --- the settings VoC's apps read -----------------------------------------------------------

MONEY = "Money"
LISTENING = "Listening and outreach"
BUDGET = "Contact budget"
FOLLOW_UPS = "Follow-ups"
MAKE_IT_RIGHT = "Make it right"

for _setting in (
    BusinessSetting(
        "currency",
        "Currency",
        MONEY,
        Currency(),
        "USD",
        help_text="The ISO 4217 code of every amount VoC shows: costs and allowances.",
    ),
    BusinessSetting(
        "cost_per_minute",
        "Cost per minute",
        MONEY,
        Amount(Decimal("0"), Decimal("1000"), money=True),
        Decimal("1.00"),
        help_text="What a minute of handle time costs: an issue's cost is its contacts × "
        "their handle minutes × this.",
        unit="per minute of handle time",
    ),
    BusinessSetting(
        "listening_hours_per_week",
        "Listening target per week",
        LISTENING,
        WholeNumber(0, 40),
        2,
        help_text="Hours each executive spends listening to customers (the 5% tracker).",
        unit="hours",
    ),
    BusinessSetting(
        "listening_hours_per_year",
        "Listening target per year",
        LISTENING,
        WholeNumber(0, 2000),
        100,
        help_text="The yearly listening target per executive.",
        unit="hours",
    ),
    BusinessSetting(
        "lost_customer_calls_per_month",
        "Lost-customer calls per executive",
        LISTENING,
        WholeNumber(0, 100),
        5,
        help_text="The size of each executive's monthly call list of lost customers.",
        unit="calls a month",
    ),
    BusinessSetting(
        "survey_cooldown_days",
        "Survey cool-down",
        BUDGET,
        WholeNumber(1, 365),
        30,
        help_text="No customer is asked for feedback again within this many days.",
        unit="days",
    ),
    BusinessSetting(
        "outreach_cooldown_days",
        "Outreach cool-down",
        BUDGET,
        WholeNumber(1, 730),
        90,
        help_text="No customer gets an outreach call again within this many days.",
        unit="days",
    ),
    BusinessSetting(
        "open_contact_days",
        "Open-contact window",
        BUDGET,
        WholeNumber(1, 90),
        14,
        help_text="A contact left open (or waiting for a callback) counts as open for this "
        "many days; no survey goes out while it is.",
        unit="days",
    ),
    BusinessSetting(
        "follow_up_callback_hours",
        "Follow-up callback time",
        FOLLOW_UPS,
        WholeNumber(1, 720),
        48,
        help_text="A detractor or a complaint is called back within this many hours.",
        unit="hours",
    ),
    BusinessSetting(
        "make_it_right_per_gesture",
        "Allowance per gesture",
        MAKE_IT_RIGHT,
        Amount(Decimal("0"), Decimal("100000"), money=True),
        Decimal("0.00"),
        help_text="A goodwill gesture up to this value needs no approval. A team's value "
        "wins over its members' role.",
        unit="per gesture",
        role_defaults={"rep": Decimal("25.00"), "manager": Decimal("100.00")},
    ),
    BusinessSetting(
        "make_it_right_per_month",
        "Allowance per month",
        MAKE_IT_RIGHT,
        Amount(Decimal("0"), Decimal("1000000"), money=True),
        Decimal("0.00"),
        help_text="Gestures in a calendar month up to this total need no approval. A team's "
        "value wins over its members' role.",
        unit="per person a month",
        role_defaults={"rep": Decimal("250.00"), "manager": Decimal("1000.00")},
    ),
):
    register_business_setting(_setting)


def business_setting_groups() -> list[tuple[str, list[SettingRow]]]:
    """The settings page: groups in the order first declared, each with its settings' rows."""
    groups: dict[str, list[SettingRow]] = {}
    for row in business_setting_rows():
        groups.setdefault(row.setting.group, []).append(row)
    return list(groups.items())
