"""The escalation business setting (voc.core.business), registered from LoopsConfig.ready()."""

from voc.core.business import BusinessSetting, WholeNumber, register_business_setting

SLA = "SLA and escalation"

SETTINGS = (
    BusinessSetting(
        "sla_escalation_step_hours",
        "Next escalation step after",
        SLA,
        WholeNumber(1, 24 * 30),
        24,
        help_text="A missed deadline goes to the owner at once, to their manager this long "
        "after, and to the sponsor (a follow-up: the department head) as long again after that.",
        unit="hours",
    ),
)


def register_sla_settings() -> None:
    for setting in SETTINGS:
        register_business_setting(setting)
