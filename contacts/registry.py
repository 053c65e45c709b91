"""Registries that let later apps add to a customer's timeline and reach what they keep about a
customer when it is erased, without contacts importing them: feedback and loops register from
their AppConfig.ready()."""

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
    # Outside the viewer's scope: shown (when and why the customer got in touch) but greyed,
    # without what was said or a link; the page says so.
    restricted: bool = False


# provider(customer, viewer, limit) -> entries the viewer may see, newest first
TimelineProvider = Callable[..., list[TimelineEntry]]
_timeline_providers: dict[str, TimelineProvider] = {}


def register_timeline_provider(name: str, provider: TimelineProvider) -> None:
    _timeline_providers[name] = provider


def timeline_providers() -> dict[str, TimelineProvider]:
    return dict(_timeline_providers)


# handler(*, customer_ids, erasure) -> {kind: rows removed or anonymised}. Called inside the
# erasure's transaction, before the customer rows are anonymised (so a handler may still read
# their email and phone); ``customer_ids`` holds the erased customer and every record merged
# into it. A handler that raises rolls the whole erasure back. See docs/erasure.md.
ErasureHandler = Callable[..., dict[str, int]]
_erasure_handlers: dict[str, ErasureHandler] = {}


def register_erasure_handler(name: str, handler: ErasureHandler) -> None:
    _erasure_handlers[name] = handler


def erasure_handlers() -> dict[str, ErasureHandler]:
    return dict(_erasure_handlers)
