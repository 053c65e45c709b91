"""The navigation bar: each entry names the capability it needs, so every role sees exactly
what it may use. Later apps add their entries from their AppConfig.ready().

Entries live in one of two menus: ``main`` (the bar) or ``user`` (the menu under the user's
name, for what is about the user's own account or for developers). The bar also holds one
search box, whose target an app registers with ``register_nav_search``."""

from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.urls import reverse

from voc.core.capabilities import Capability, has_capability

MAIN = "main"
USER = "user"
# Pages of settings owned by other apps (SLA policies): linked from the business settings
# page, not from the bar, which has room for a dozen entries on a laptop and no more.
SETTINGS = "settings"


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str
    capability: str
    order: int = 100
    enabled_setting: str | None = None  # a setting that must be true for the entry to exist
    menu: str = MAIN


@dataclass(frozen=True)
class NavSearch:
    url_name: str
    capability: str
    label: str  # what the box finds: its accessible name
    placeholder: str = "Search…"


class NavEntry(TypedDict):
    """An entry as the templates read it."""

    key: str
    label: str
    url: str
    menu: str
    current: str  # "" (not current), "page" (its own page) or "true" (one of its sub-pages)


class NavSearchTarget(TypedDict):
    url: str
    label: str
    placeholder: str


_items: dict[str, NavItem] = {}
_search: list[NavSearch] = []


def register_nav_item(item: NavItem) -> None:
    _items[item.key] = item


def register_nav_search(search: NavSearch) -> None:
    """The bar's search box sends ``q`` to this page (one box: the last registration wins)."""
    _search[:] = [search]


def current_key(items: list[NavEntry], path: str) -> str | None:
    """The entry whose page or section holds ``path``: the longest entry URL that is a prefix
    of it, so /contacts/12/ is in Contacts and /contacts/customers/3/ in Customers. Home ("/")
    is current on the home page only."""
    best: NavEntry | None = None
    for item in items:
        url = item["url"]
        matches = path == url if url == "/" else path.startswith(url)
        if matches and (best is None or len(url) > len(best["url"])):
            best = item
    return best["key"] if best else None


def nav_items_for(user: Any, path: str | None = None) -> list[NavEntry]:
    """The entries the user may use, in order. With ``path``, the entry of the page's section
    is marked ``current`` ("page" on the entry's own page, "true" on its sub-pages)."""
    items: list[NavEntry] = []
    for item in sorted(_items.values(), key=lambda i: (i.order, i.label)):
        if item.enabled_setting and not getattr(settings, item.enabled_setting, False):
            continue
        if has_capability(user, item.capability):
            items.append(
                {
                    "key": item.key,
                    "label": item.label,
                    "url": reverse(item.url_name),
                    "menu": item.menu,
                    "current": "",
                }
            )
    if path is not None and (key := current_key(items, path)):
        for entry in items:
            if entry["key"] == key:
                entry["current"] = "page" if entry["url"] == path else "true"
    return items


def nav_search_for(user: Any) -> NavSearchTarget | None:
    """The search box's target and label, if the user may search."""
    for search in _search:
        if has_capability(user, search.capability):
            return {
                "url": reverse(search.url_name),
                "label": search.label,
                "placeholder": search.placeholder,
            }
    return None


for _item in (
    NavItem("home", "Home", "home", Capability.VIEW_HOME, order=0),
    NavItem("people", "People", "people:directory", Capability.VIEW_PEOPLE, order=80),
    NavItem("tokens", "API tokens", "people:tokens", Capability.MANAGE_OWN_TOKENS, 90, menu=USER),
    NavItem("api-docs", "API docs", "api-docs", Capability.VIEW_API_DOCS, order=91, menu=USER),
    NavItem("jobs", "Jobs", "core:jobs", Capability.VIEW_JOB_RUNS, order=200),
    NavItem("outbox", "Outbox", "core:outbox", Capability.VIEW_OUTBOX, 201, "OUTBOX_ENABLED"),
    NavItem(
        "settings", "Settings", "core:business-settings", Capability.MANAGE_BUSINESS_SETTINGS, 205
    ),
    NavItem("admin", "Admin", "admin:index", Capability.USE_ADMIN, order=210),
):
    register_nav_item(_item)
