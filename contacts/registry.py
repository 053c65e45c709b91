"""Registries that let later apps add to a customer's timeline (and, later, to erasure)
without contacts importing them: feedback and loops register from their AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    kind: str  # "contact", "feedback", "issue", "follow-up", ...
    title: str
    summary: str = ""
    url: str = ""


# provider(customer, viewer, limit) -> entries the viewer may see, newest first
TimelineProvider = Callable[..., list[TimelineEntry]]
_timeline_providers: dict[str, TimelineProvider] = {}


def register_timeline_provider(name: str, provider: TimelineProvider) -> None:
    _timeline_providers[name] = provider


def timeline_providers() -> dict[str, TimelineProvider]:
    return dict(_timeline_providers)
