"""The follow-up business settings (voc.core.business), registered from LoopsConfig.ready()."""

from voc.core.business import BusinessSetting, WholeNumber, register_business_setting

FOLLOW_UPS = "Follow-ups"

SETTINGS = (
    BusinessSetting(
        "follow_up_hours",
        "Call back within",
        FOLLOW_UPS,
        WholeNumber(1, 720),
        48,
        help_text="How long the team lead has to call back a detractor or a complainer.",
        unit="hours",
    ),
)


def register_follow_up_settings() -> None:
    for setting in SETTINGS:
        register_business_setting(setting)
