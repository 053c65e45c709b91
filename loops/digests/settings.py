"""The digest business settings (voc.core.business), registered from LoopsConfig.ready()."""

from voc.core.business import BusinessSetting, WholeNumber, register_business_setting

DIGESTS = "Bcc digests"

SETTINGS = (
    BusinessSetting(
        "digest_instant_minutes",
        "Instant digests at most every",
        DIGESTS,
        WholeNumber(1, 120),
        5,
        help_text="An instant subscription batches what arrives in this time into one email.",
        unit="minutes",
    ),
)


def register_digest_settings() -> None:
    for setting in SETTINGS:
        register_business_setting(setting)
