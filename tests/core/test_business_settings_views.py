"""The business settings pages: admins only, errors next to the field, the history shown, and
the Django admin read-only."""

from decimal import Decimal

import pytest
from django.urls import reverse

from voc.core.business import business_setting, business_setting_for, business_setting_set
from voc.core.models import AuditEntry, BusinessSettingValue

pytestmark = pytest.mark.django_db

NOT_ADMINS = ["rep", "teammate", "outsider", "manager", "other_manager", "executive"]
GESTURE = "make_it_right_per_gesture"


def _pages():
    return [
        ("get", reverse("core:business-settings"), {}),
        ("get", reverse("core:business-setting", args=["cost_per_minute"]), {}),
        (
            "post",
            reverse("core:business-setting", args=["cost_per_minute"]),
            {"everyone-value": "9"},
        ),
        ("post", reverse("core:business-setting-reset", args=["cost_per_minute"]), {}),
    ]


def test_admins_see_every_setting_grouped_with_its_value(client, cast):
    business_setting_set(key="cost_per_minute", value="1.35", by=cast.admin)
    business_setting_set(key=GESTURE, value="70", team=cast.team_a, by=cast.admin)
    client.force_login(cast.admin)

    response = client.get(reverse("core:business-settings"))

    assert response.status_code == 200
    groups = [
        (group, [row.setting.key for row in rows]) for group, rows in response.context["groups"]
    ]
    assert groups == [
        ("Money", ["currency", "cost_per_minute"]),
        (
            "Listening and outreach",
            [
                "listening_hours_per_week",
                "listening_hours_per_year",
                "lost_customer_calls_per_month",
                "loyal_customer_calls_per_month",  # declared by feedback/outreach/apps.py
                "lost_customer_window_days",
            ],
        ),
        ("Contact budget", ["survey_cooldown_days", "outreach_cooldown_days", "open_contact_days"]),
        ("Follow-ups", ["follow_up_callback_hours"]),
        ("Make it right", [GESTURE, "make_it_right_per_month"]),
        (
            "Post-contact surveys",  # declared by feedback/surveys/settings.py
            [
                "survey_share_percent",
                "survey_share_by_channel",
                "survey_share_by_reason",
                "survey_scale",
                "survey_scale_by_channel",
                "survey_link_days",
            ],
        ),
        ("Bcc digests", ["digest_instant_minutes"]),  # declared by loops/digests/settings.py
        ("SLA and escalation", ["sla_escalation_step_hours"]),  # loops/sla/settings.py
    ]
    page = response.content.decode()
    assert "<strong>1.35</strong> USD per minute of handle time" in page
    assert "Team Billing Care:</span> <strong>70.00</strong>" in page


@pytest.mark.parametrize("username", NOT_ADMINS)
def test_every_other_role_is_refused_and_changes_nothing(client, cast, username):
    client.force_login(getattr(cast, username))
    for method, url, data in _pages():
        assert getattr(client, method)(url, data).status_code == 403, (method, url)
    assert not BusinessSettingValue.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("username", ["inactive", None])
def test_inactive_and_anonymous_users_are_sent_to_sign_in(client, cast, username):
    if username:
        client.force_login(getattr(cast, username))
    for method, url, data in _pages():
        response = getattr(client, method)(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not BusinessSettingValue.objects.exists()


def test_an_admin_saves_a_value_with_a_reason_and_sees_it_in_the_history(client, cast):
    client.force_login(cast.admin)
    url = reverse("core:business-setting", args=["cost_per_minute"])

    response = client.post(url, {"scope": "", "everyone-value": "1.35", "everyone-why": "Q1 rates"})

    assert response.status_code == 302
    assert response["Location"] == url
    assert business_setting("cost_per_minute") == Decimal("1.35")
    page = client.get(url).content.decode()
    assert "Cost per minute saved." in page
    assert 'data-testid="value-everyone">1.35</span>' in page
    assert "value</span>:\n                  1.00 → 1.35" in page
    assert "Q1 rates" in page
    assert "<strong>admin</strong> business_setting.set" in page


@pytest.mark.parametrize(
    ("value", "error"),
    [("0.005", "Use at most 2 decimal places."), ("1000.01", "Enter 1000 or less."), ("", "")],
)
def test_a_bad_value_is_shown_next_to_its_field_and_nothing_is_saved(client, cast, value, error):
    client.force_login(cast.admin)
    url = reverse("core:business-setting", args=["cost_per_minute"])

    response = client.post(url, {"scope": "", "everyone-value": value})

    assert response.status_code == 400
    errors = next(f for item, f in response.context["forms"] if item.scope == "").errors
    assert errors["value"] == [error or "This field is required."]
    page = response.content.decode()
    assert 'class="field has-errors">\n  <label for="id_everyone-value">Cost per minute' in page
    assert f'value="{value}"' in page  # what the admin typed stays in the field
    assert business_setting("cost_per_minute") == Decimal("1.00")
    assert not AuditEntry.objects.exists()


def test_role_and_team_values_are_saved_from_their_own_forms(client, cast):
    client.force_login(cast.admin)
    url = reverse("core:business-setting", args=[GESTURE])

    client.post(url, {"scope": "role:rep", "role-rep-value": "45"})
    client.post(url, {"scope": "team:new", "team-new-team": cast.team_b.pk, "team-new-value": "90"})

    assert business_setting_for(GESTURE, user=cast.rep) == Decimal("45.00")
    assert business_setting_for(GESTURE, user=cast.outsider) == Decimal("90.00")
    page = client.get(url).content.decode()
    assert 'for="id_role-rep-value">Allowance per gesture for Rep</label>' in page
    assert f'data-testid="value-team-{cast.team_b.pk}">90.00</span>' in page

    client.post(url, {"scope": f"team:{cast.team_b.pk}", f"team-{cast.team_b.pk}-value": "95"})
    assert business_setting_for(GESTURE, user=cast.outsider) == Decimal("95.00")

    response = client.post(
        reverse("core:business-setting-reset", args=[GESTURE]), {"scope": f"team:{cast.team_b.pk}"}
    )
    assert response.status_code == 302
    assert business_setting_for(GESTURE, user=cast.outsider) == Decimal("45.00")


@pytest.mark.parametrize(
    ("key", "data", "message"),
    [
        (GESTURE, {"scope": "role:executive", "role-executive-value": "5"}, "for these roles only"),
        (GESTURE, {"scope": "team:999999", "team-999999-value": "5"}, "does not exist any more."),
        (GESTURE, {"scope": "everyone", "everyone-value": "5"}, "Choose which value to change."),
        (GESTURE, {"scope": "", "everyone-value": "5"}, "Say which role or which team"),
        ("currency", {"scope": "role:rep", "role-rep-value": "EUR"}, "one value for everyone"),
    ],
)
def test_a_value_for_a_scope_the_page_does_not_offer_is_refused_with_a_message(
    client, cast, key, data, message
):
    client.force_login(cast.admin)
    response = client.post(reverse("core:business-setting", args=[key]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BusinessSettingValue.objects.exists()


def test_a_team_must_be_chosen_for_a_team_value(client, cast):
    client.force_login(cast.admin)
    url = reverse("core:business-setting", args=[GESTURE])
    response = client.post(url, {"scope": "team:new", "team-new-value": "5"})
    assert response.status_code == 400
    assert response.context["new_team_form"].errors == {"team": ["This field is required."]}


def test_an_unknown_setting_is_a_404(client, cast):
    client.force_login(cast.admin)
    assert client.get(reverse("core:business-setting", args=["no_such_thing"])).status_code == 404
    url = reverse("core:business-setting-reset", args=["no_such_thing"])
    assert client.post(url).status_code == 404


def test_the_reset_page_only_answers_posts(client, cast):
    client.force_login(cast.admin)
    url = reverse("core:business-setting-reset", args=["cost_per_minute"])
    assert client.get(url).status_code == 405


def test_a_reason_is_escaped_in_the_history(client, cast):
    business_setting_set(
        key="currency", value="EUR", by=cast.admin, why="<script>alert(1)</script>"
    )
    client.force_login(cast.admin)
    page = client.get(reverse("core:business-setting", args=["currency"])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_django_admin_shows_values_read_only(client, cast):
    business_setting_set(key="currency", value="EUR", by=cast.admin)
    row = BusinessSettingValue.objects.get()
    client.force_login(cast.admin)

    assert client.get(reverse("admin:core_businesssettingvalue_changelist")).status_code == 200
    change_url = reverse("admin:core_businesssettingvalue_change", args=[row.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change_url, {"key": "currency", "value": '"GBP"'}).status_code == 403
    assert client.get(reverse("admin:core_businesssettingvalue_add")).status_code == 403
    delete_url = reverse("admin:core_businesssettingvalue_delete", args=[row.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert business_setting("currency") == "EUR"


def test_a_bad_role_value_is_shown_in_that_roles_form_only(client, cast):
    client.force_login(cast.admin)
    url = reverse("core:business-setting", args=[GESTURE])

    response = client.post(url, {"scope": "role:manager", "role-manager-value": "abc"})

    assert response.status_code == 400
    errors = {item.scope: form.errors for item, form in response.context["forms"]}
    assert errors == {"role:rep": {}, "role:manager": {"value": ["Enter a number such as 1.25."]}}
    page = response.content.decode()
    assert (
        'class="field has-errors">\n  <label for="id_role-manager-value">'
        "Allowance per gesture for Manager</label>"
    ) in page
