"""The business settings of post-contact surveys (voc.core.business), declared from
FeedbackConfig.ready(): who is sampled, on which scale, and how long a link stays open.

Overrides are short text an admin types on the settings page, "phone=20 chat=50" (a share per
channel) or "12=0 15=100" (a share per contact-reason id); a reason's own value wins over its
parent's, which wins over the channel's, which wins over the share for everyone.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from contacts.models import Channel
from voc.core.business import (
    BusinessSetting,
    Kind,
    WholeNumber,
    business_setting,
    register_business_setting,
)

SURVEYS = "Post-contact surveys"
SCALES = ("nps", "csat")
NONE_WORDS = ("", "none", "-")


@dataclass(frozen=True)
class Choice(Kind):
    """One word out of ``choices``."""

    choices: tuple[str, ...]

    def clean(self, raw: Any) -> str:
        value = raw.strip().lower() if isinstance(raw, str) else ""
        if value not in self.choices:
            raise ValidationError(f"Enter one of: {', '.join(self.choices)}.", code="invalid")
        return value


@dataclass(frozen=True)
class Overrides(Kind):
    """``key=value`` pairs separated by spaces or commas, kept as normalised text ("" or
    "none" for no overrides). Keys are channel names (``channels``) or reason ids; values are
    whole numbers 0-100 or one of ``words``."""

    channels: bool
    words: tuple[str, ...] = ()

    def clean(self, raw: Any) -> str:
        text = raw.strip().lower() if isinstance(raw, str) else None
        if text is None:
            raise ValidationError("Enter pairs such as phone=20 chat=50.", code="invalid")
        if text in NONE_WORDS:
            return ""
        pairs = []
        for part in re.split(r"[\s,;]+", text):
            key, sep, value = part.partition("=")
            if not sep or not key or not value:
                raise ValidationError(f"“{part}” is not key=value.", code="invalid")
            if self.channels and key not in Channel.values:
                raise ValidationError(
                    f"“{key}” is not a channel: use {', '.join(Channel.values)}.", code="invalid"
                )
            if not self.channels and not key.isdigit():
                raise ValidationError(f"“{key}” is not a reason id (a number).", code="invalid")
            if self.words:
                if value not in self.words:
                    raise ValidationError(
                        f"“{value}” is not one of {', '.join(self.words)}.", code="invalid"
                    )
            elif not value.isdigit() or int(value) > 100:
                raise ValidationError(f"“{value}” is not a share from 0 to 100.", code="invalid")
            pairs.append((key, value if self.words else str(int(value))))
        return " ".join(f"{key}={value}" for key, value in dict(pairs).items())


def parse_overrides(text: str) -> dict[str, str]:
    """The pairs of a stored Overrides value."""
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


SETTINGS = (
    BusinessSetting(
        "survey_share_percent",
        "Share of closed contacts surveyed",
        SURVEYS,
        WholeNumber(0, 100),
        10,
        help_text="The percentage of closed contacts whose customer is invited to a survey "
        "(the contact budget may still say no). The same contacts are picked on a re-run.",
        unit="%",
    ),
    BusinessSetting(
        "survey_share_by_channel",
        "Share per channel",
        SURVEYS,
        Overrides(channels=True),
        "",
        help_text="Overrides per channel, e.g. “phone=20 chat=50 letter=0”; “none” for none.",
    ),
    BusinessSetting(
        "survey_share_by_reason",
        "Share per contact reason",
        SURVEYS,
        Overrides(channels=False),
        "",
        help_text="Overrides per contact-reason id (a parent's value covers its sub-reasons), "
        "e.g. “12=0 31=100”; they win over the channel's. “none” for none.",
    ),
    BusinessSetting(
        "survey_scale",
        "Survey question",
        SURVEYS,
        Choice(SCALES),
        "nps",
        help_text="nps: how likely to recommend us, 0-10; csat: how satisfied, 1-5.",
    ),
    BusinessSetting(
        "survey_scale_by_channel",
        "Survey question per channel",
        SURVEYS,
        Overrides(channels=True, words=SCALES),
        "",
        help_text="Overrides per channel, e.g. “chat=csat email=csat”; “none” for none.",
    ),
    BusinessSetting(
        "survey_link_days",
        "Survey link lifetime",
        SURVEYS,
        WholeNumber(1, 60),
        14,
        help_text="How long a customer may answer after the invitation is sent.",
        unit="days",
    ),
)


def register_survey_settings() -> None:
    for setting in SETTINGS:
        register_business_setting(setting)


@dataclass(frozen=True)
class SamplingRules:
    """The sampling settings in force, read once per run."""

    share: int
    by_channel: dict[str, int]
    by_reason: dict[int, int]
    scale: str
    scale_by_channel: dict[str, str]
    link_days: int


def sampling_rules() -> SamplingRules:
    by_channel = parse_overrides(business_setting("survey_share_by_channel"))
    by_reason = parse_overrides(business_setting("survey_share_by_reason"))
    return SamplingRules(
        share=business_setting("survey_share_percent"),
        by_channel={channel: int(share) for channel, share in by_channel.items()},
        by_reason={int(reason): int(share) for reason, share in by_reason.items()},
        scale=business_setting("survey_scale"),
        scale_by_channel=parse_overrides(business_setting("survey_scale_by_channel")),
        link_days=business_setting("survey_link_days"),
    )
