"""Business settings (voc.core.business): declared defaults, typed checks at their bounds, the
team > role > default order, the audit entry of every change, and the per-thread cache."""

from decimal import Decimal

import pytest
from celery.signals import task_prerun
from django.core.exceptions import ValidationError
from django.db import transaction

from tests.factories import TeamFactory, UserFactory
from voc.core import business
from voc.core.audit import SystemActor
from voc.core.business import (
    Allowance,
    Amount,
    BusinessSetting,
    WholeNumber,
    allowance_for,
    business_setting,
    business_setting_for,
    business_setting_history,
    business_setting_reset,
    business_setting_rows,
    business_setting_set,
    business_settings,
    register_business_setting,
)
from voc.core.models import AuditEntry, BusinessSettingValue
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

GESTURE = "make_it_right_per_gesture"


def test_a_fresh_install_runs_on_the_declared_defaults():
    assert business_settings() == {
        "currency": "USD",
        "cost_per_minute": Decimal("1.00"),
        "listening_hours_per_week": 2,
        "listening_hours_per_year": 100,
        "lost_customer_calls_per_month": 5,
        "survey_cooldown_days": 30,
        "outreach_cooldown_days": 90,
        "open_contact_days": 14,
        "follow_up_callback_hours": 48,
        # declared by feedback's outreach programs (feedback/outreach/apps.py)
        "loyal_customer_calls_per_month": 5,
        "lost_customer_window_days": 90,
        # post-contact surveys (feedback/surveys/settings.py)
        "survey_share_percent": 10,
        "survey_share_by_channel": "",
        "survey_share_by_reason": "",
        "survey_scale": "nps",
        "survey_scale_by_channel": "",
        "survey_link_days": 14,
        # the bcc digests (loops/digests/settings.py)
        "digest_instant_minutes": 5,
        # SLA and escalation (loops/sla/settings.py)
        "sla_escalation_step_hours": 24,
    }
    assert business_setting_for(GESTURE, role=Role.REP) == Decimal("25.00")
    assert business_setting_for(GESTURE, role=Role.MANAGER) == Decimal("100.00")
    assert business_setting_for(GESTURE, role=Role.EXECUTIVE) == Decimal("0.00")
    assert business_setting_for("make_it_right_per_month", role=Role.REP) == Decimal("250.00")
    assert business_setting_for("make_it_right_per_month", role=Role.MANAGER) == Decimal("1000.00")
    assert not BusinessSettingValue.objects.exists()


def test_a_value_set_is_read_back_typed_and_audited_with_before_after_and_actor(cast):
    business_setting_set(key="cost_per_minute", value="1.35", by=cast.admin, why="2027 budget")

    assert business_setting("cost_per_minute") == Decimal("1.35")
    entry = AuditEntry.objects.get()
    row = BusinessSettingValue.objects.get()
    assert (entry.actor_id, entry.actor_name) == (cast.admin.pk, "admin")
    assert entry.action == "business_setting.set"
    assert (entry.target_type, entry.target_id) == ("core.businesssettingvalue", row.pk)
    assert entry.changes == {
        "setting": "cost_per_minute",
        "scope": "everyone",
        "value": ["1.00", "1.35"],
    }
    assert entry.why == "2027 budget"
    assert (row.value, row.updated_by) == ("1.35", cast.admin)

    business_setting_set(key="cost_per_minute", value=Decimal("1.4"), by=cast.admin)

    latest = AuditEntry.objects.order_by("-id").first()
    assert latest.changes["value"] == ["1.35", "1.40"]
    assert business_setting("cost_per_minute") == Decimal("1.40")


def test_setting_the_value_it_already_has_records_nothing(cast):
    assert business_setting_set(key="survey_cooldown_days", value="30", by=cast.admin) == 30
    assert not BusinessSettingValue.objects.exists()
    business_setting_set(key="survey_cooldown_days", value="45", by=cast.admin)
    business_setting_set(key="survey_cooldown_days", value=" 45 ", by=cast.admin)
    assert AuditEntry.objects.count() == 1


def test_a_system_actor_may_write_and_is_named():
    business_setting_set(key="currency", value="eur", by=SystemActor("import:settings"))
    entry = AuditEntry.objects.get()
    assert (entry.actor_id, entry.actor_name) == (None, "import:settings")
    assert entry.changes["value"] == ["USD", "EUR"]
    assert BusinessSettingValue.objects.get().updated_by is None


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("survey_cooldown_days", "1", 1),
        ("survey_cooldown_days", "365", 365),
        ("survey_cooldown_days", 7, 7),
        ("listening_hours_per_week", "0", 0),
        ("listening_hours_per_week", "40", 40),
        ("cost_per_minute", "0", Decimal("0.00")),
        ("cost_per_minute", "1000", Decimal("1000.00")),
        ("cost_per_minute", "0.01", Decimal("0.01")),
        ("cost_per_minute", ".5", Decimal("0.50")),
        ("cost_per_minute", "2.500", Decimal("2.50")),
        ("currency", " gbp ", "GBP"),
    ],
)
def test_values_at_the_bounds_are_accepted(cast, key, value, expected):
    assert business_setting_set(key=key, value=value, by=cast.admin) == expected
    assert business_setting(key) == expected


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("survey_cooldown_days", "0", "Enter 1 or more."),
        ("survey_cooldown_days", "366", "Enter 365 or less."),
        ("survey_cooldown_days", "1.5", "Enter a whole number."),
        ("survey_cooldown_days", "thirty", "Enter a whole number."),
        ("survey_cooldown_days", "", "Enter a whole number."),
        ("survey_cooldown_days", True, "Enter a whole number."),
        ("listening_hours_per_week", "41", "Enter 40 or less."),
        ("cost_per_minute", "-0.01", "Enter 0 or more."),
        ("cost_per_minute", "1000.01", "Enter 1000 or less."),
        ("cost_per_minute", "0.005", "Use at most 2 decimal places."),
        ("cost_per_minute", "1,5", "Enter a number such as 1.25."),
        ("cost_per_minute", "NaN", "Enter a number such as 1.25."),
        ("cost_per_minute", "1e3", "Enter a number such as 1.25."),
        ("currency", "EURO", "Enter a three-letter currency code such as EUR."),
        ("currency", "EUX", "EUX is not an ISO 4217 currency code."),
        ("currency", 978, "Enter a three-letter currency code such as EUR."),
    ],
)
def test_values_past_the_bounds_are_refused_with_a_message_and_change_nothing(
    cast, key, value, message
):
    before = business_setting(key)
    with pytest.raises(ValidationError) as refused:
        business_setting_set(key=key, value=value, by=cast.admin)
    assert refused.value.message_dict == {"value": [message]}
    assert business_setting(key) == before
    assert not BusinessSettingValue.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_team_value_wins_over_the_role_which_wins_over_the_default(cast):
    manager_in_team_a = UserFactory(role=Role.MANAGER, team=cast.team_a)
    assert business_setting_for(GESTURE, user=cast.rep) == Decimal("25.00")

    business_setting_set(key=GESTURE, value="40", role=Role.REP, by=cast.admin)
    assert business_setting_for(GESTURE, user=cast.rep) == Decimal("40.00")
    assert business_setting_for(GESTURE, user=cast.outsider) == Decimal("40.00")
    assert business_setting_for(GESTURE, user=cast.manager) == Decimal("100.00")

    business_setting_set(key=GESTURE, value="60", team=cast.team_a, by=cast.admin)
    assert business_setting_for(GESTURE, user=cast.rep) == Decimal("60.00")
    assert business_setting_for(GESTURE, user=cast.teammate) == Decimal("60.00")
    assert business_setting_for(GESTURE, user=manager_in_team_a) == Decimal("60.00")
    assert business_setting_for(GESTURE, user=cast.outsider) == Decimal("40.00")
    assert business_setting_for(GESTURE, role=Role.REP, team_id=cast.team_b.pk) == Decimal("40")

    business_setting_reset(key=GESTURE, team=cast.team_a, by=cast.admin)
    assert business_setting_for(GESTURE, user=cast.rep) == Decimal("40.00")
    business_setting_reset(key=GESTURE, role=Role.REP, by=cast.admin)
    assert business_setting_for(GESTURE, user=cast.rep) == Decimal("25.00")


def test_allowance_for_answers_both_limits_and_the_currency(cast):
    business_setting_set(key="currency", value="EUR", by=cast.admin)
    business_setting_set(
        key="make_it_right_per_month", value="900", team=cast.team_a, by=cast.admin
    )

    assert allowance_for(cast.rep) == Allowance(
        per_gesture=Decimal("25.00"), per_month=Decimal("900.00"), currency="EUR"
    )
    assert allowance_for(cast.outsider) == Allowance(
        per_gesture=Decimal("25.00"), per_month=Decimal("250.00"), currency="EUR"
    )
    assert allowance_for(cast.executive).per_gesture == Decimal("0.00")


def test_a_deleted_team_takes_its_values_with_it(cast):
    team = TeamFactory(name="Retention")
    member = UserFactory(role=Role.REP, team=team)
    business_setting_set(key=GESTURE, value="75", team=team, by=cast.admin)
    team.delete()
    member.refresh_from_db()
    assert business_setting_for(GESTURE, user=member) == Decimal("25.00")


@pytest.mark.parametrize(
    ("key", "scope", "message"),
    [
        ("cost_per_minute", {"role": "rep"}, "Cost per minute has one value for everyone"),
        (GESTURE, {}, "Say which role or which team"),
        (GESTURE, {"role": "executive"}, "set for these roles only: rep, manager."),
        (GESTURE, {"role": "rep", "team": "team_a"}, "Say which role or which team"),
    ],
)
def test_a_value_for_a_scope_the_setting_does_not_have_is_refused(cast, key, scope, message):
    if scope.get("team") == "team_a":
        scope["team"] = cast.team_a
    with pytest.raises(ValidationError, match=message):
        business_setting_set(key=key, value="10", by=cast.admin, **scope)
    assert not BusinessSettingValue.objects.exists()


def test_reading_a_per_role_setting_without_a_role_is_a_mistake():
    with pytest.raises(TypeError, match="use business_setting_for"):
        business_setting(GESTURE)
    with pytest.raises(LookupError, match="No business setting is declared as 'nope'"):
        business_setting("nope")


def test_a_reset_is_audited_with_the_value_that_applies_again(cast):
    business_setting_set(key="open_contact_days", value="21", by=cast.admin)
    assert business_setting_reset(key="open_contact_days", by=cast.admin, why="back") == 14

    assert business_setting("open_contact_days") == 14
    assert not BusinessSettingValue.objects.exists()
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.action == "business_setting.reset"
    assert entry.changes == {"setting": "open_contact_days", "scope": "everyone", "value": [21, 14]}
    assert (entry.actor, entry.why) == (cast.admin, "back")

    business_setting_set(key=GESTURE, value="30", team=cast.team_b, by=cast.admin)
    assert business_setting_reset(key=GESTURE, team=cast.team_b, by=cast.admin) is None
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry.changes == {
        "setting": GESTURE,
        "scope": "team Tech Tier 1",
        "value": ["30.00", None],
    }


def test_resetting_what_was_never_set_records_nothing(cast):
    assert business_setting_reset(key="open_contact_days", by=cast.admin) == 14
    assert not AuditEntry.objects.exists()


def test_the_history_of_a_setting_holds_every_scope_newest_first_and_nothing_else(cast):
    business_setting_set(key=GESTURE, value="30", role=Role.REP, by=cast.admin)
    business_setting_set(key=GESTURE, value="50", team=cast.team_a, by=cast.admin)
    business_setting_set(key="make_it_right_per_month", value="300", role=Role.REP, by=cast.admin)
    business_setting_reset(key=GESTURE, team=cast.team_a, by=cast.admin)

    history = business_setting_history(GESTURE)

    assert [(e.action, e.changes["scope"], e.changes["value"]) for e in history] == [
        ("business_setting.reset", "team Billing Care", ["50.00", None]),
        ("business_setting.set", "team Billing Care", [None, "50.00"]),
        ("business_setting.set", "role rep", ["25.00", "30.00"]),
    ]


def test_a_change_rolled_back_is_not_read_afterwards(cast):
    with pytest.raises(RuntimeError), transaction.atomic():
        business_setting_set(key="follow_up_callback_hours", value="24", by=cast.admin)
        assert business_setting("follow_up_callback_hours") == 24
        raise RuntimeError("the caller's transaction fails")

    assert business_setting("follow_up_callback_hours") == 48
    assert not AuditEntry.objects.exists()


def test_reads_share_one_query_until_a_request_starts(cast, client, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert business_setting("currency") == "USD"
        assert business_setting("cost_per_minute") == Decimal("1.00")
        assert business_setting_for(GESTURE, user=cast.rep) == Decimal("25.00")
        business_settings()

    # Another process's write: this thread sees it from its next request (or task) on.
    BusinessSettingValue.objects.create(
        key="currency", value="CAD", updated_at="2026-12-01T00:00:00Z"
    )
    assert business_setting("currency") == "USD"
    client.get("/healthz/")  # any request starts afresh
    assert business_setting("currency") == "CAD"


def test_each_celery_task_starts_afresh():
    assert business_setting("currency") == "USD"
    BusinessSettingValue.objects.create(
        key="currency", value="CAD", updated_at="2026-12-01T00:00:00Z"
    )
    task_prerun.send(sender=None, task_id="t1", task=None, args=(), kwargs={})
    assert business_setting("currency") == "CAD"


def test_a_write_in_this_thread_is_read_at_once(cast):
    assert business_setting("currency") == "USD"
    business_setting_set(key="currency", value="JPY", by=cast.admin)
    assert business_setting("currency") == "JPY"


def test_the_page_rows_show_every_scope_with_its_origin(cast):
    business_setting_set(key=GESTURE, value="35", role=Role.MANAGER, by=cast.admin)
    business_setting_set(key=GESTURE, value="80", team=cast.team_b, by=cast.admin)
    business_setting_set(key="currency", value="GBP", by=cast.admin)

    row = business_setting_rows([GESTURE])[0]

    assert row.unit == "GBP per gesture"
    assert [(v.scope, v.label, v.value, v.is_set) for v in row.values] == [
        ("role:rep", "Rep", Decimal("25.00"), False),
        ("role:manager", "Manager", Decimal("35.00"), True),
        (f"team:{cast.team_b.pk}", "Team Tech Tier 1", Decimal("80.00"), True),
    ]


def test_a_declaration_whose_default_fails_its_own_checks_is_refused():
    with pytest.raises(ValidationError, match="Enter 10 or less"):
        register_business_setting(
            BusinessSetting("broken_limit", "Broken", "Test", WholeNumber(0, 10), 11)
        )
    with pytest.raises(ValueError, match="lower_snake_case"):
        register_business_setting(BusinessSetting("Bad-Key", "Bad", "Test", WholeNumber(0, 10), 1))
    with pytest.raises(ValueError, match="declared twice"):
        register_business_setting(
            BusinessSetting("cost_per_minute", "Again", "Money", WholeNumber(0, 10), 1)
        )
    assert "broken_limit" not in business._registry


def test_a_later_app_adds_a_setting_in_a_few_lines(cast, monkeypatch):
    monkeypatch.setattr(business, "_registry", dict(business._registry))
    register_business_setting(
        BusinessSetting(
            "escalation_grace_hours",
            "Escalation grace",
            "Loops",
            WholeNumber(0, 72),
            4,
            unit="hours",
        )
    )
    assert business_setting("escalation_grace_hours") == 4
    business_setting_set(key="escalation_grace_hours", value="6", by=cast.admin)
    assert business_setting("escalation_grace_hours") == 6
    assert business_setting_history("escalation_grace_hours")[0].changes["value"] == [4, 6]


def test_a_stored_value_outside_bounds_tightened_later_still_reads():
    kind = Amount(Decimal("0"), Decimal("10"))
    assert kind.from_json("25.00") == Decimal("25.00")
