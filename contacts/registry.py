"""Registries that let later apps add to a customer's timeline, add panels and actions to the
contact and customer pages, and reach what they keep about a customer when it is erased,
without contacts importing them: feedback and loops register from their AppConfig.ready()."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.http import HttpRequest
from django.utils.safestring import SafeString

from voc.core.capabilities import has_capability
from voc.core.home import Fragment


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
    # ``when`` is a day the source gave without a time (shown as the day alone).
    date_only: bool = False


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


# Panels and actions on the contact and customer pages: a later app adds its own (the issues a
# contact is evidence for, a customer's survey answers, "open an issue from this contact")
# without contacts importing it. panel.content(obj, viewer) returns a Fragment or None (nothing
# to show for this object); action.url(obj, viewer) returns a URL or None (not for this one).
CONTACT_PAGE = "contact"
CUSTOMER_PAGE = "customer"
PAGES = (CONTACT_PAGE, CUSTOMER_PAGE)


@dataclass(frozen=True)
class PagePanel:
    key: str  # "<app>.<name>", unique on its page
    title: str
    capability: str
    content: Callable[..., Fragment | None]
    order: int = 100


@dataclass(frozen=True)
class PageAction:
    key: str
    label: str
    capability: str
    url: Callable[..., str | None]
    order: int = 100


@dataclass(frozen=True)
class ShownPanel:
    key: str
    title: str
    html: SafeString


@dataclass(frozen=True)
class ShownAction:
    key: str
    label: str
    url: str


_panels: dict[str, dict[str, PagePanel]] = {page: {} for page in PAGES}
_actions: dict[str, dict[str, PageAction]] = {page: {} for page in PAGES}


def register_page_panel(page: str, panel: PagePanel) -> None:
    _panels[page][panel.key] = panel


def register_page_action(page: str, action: PageAction) -> None:
    _actions[page][action.key] = action


def page_panels_shown(
    page: str,
    *,
    obj: models.Model,
    request: HttpRequest,
    bound_forms: Mapping[str, object] | None = None,
) -> list[ShownPanel]:
    """The panels of ``page`` the viewer may see for ``obj``, in order, rendered.
    ``bound_forms`` maps a panel's key to the form just posted to it and refused: that panel
    gets it as ``form=`` and shows it with its errors and what was typed."""
    viewer = request.user
    shown = []
    for panel in sorted(_panels[page].values(), key=lambda p: (p.order, p.title)):
        if not has_capability(viewer, panel.capability):
            continue
        if bound_forms and panel.key in bound_forms:
            fragment = panel.content(obj, viewer, form=bound_forms[panel.key])
        else:
            fragment = panel.content(obj, viewer)
        if fragment is not None:
            shown.append(ShownPanel(panel.key, panel.title, fragment.render(request)))
    return shown


def page_actions_shown(page: str, *, obj: models.Model, viewer: object) -> list[ShownAction]:
    """The actions of ``page`` the viewer may take on ``obj``, in order."""
    shown = []
    for action in sorted(_actions[page].values(), key=lambda a: (a.order, a.label)):
        if not has_capability(viewer, action.capability):
            continue
        url = action.url(obj, viewer)
        if url:
            shown.append(ShownAction(action.key, action.label, url))
    return shown
