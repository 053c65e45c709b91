"""The navigation bar: each entry names the capability it needs, so every role sees exactly
what it may use. Later apps add their entries from their AppConfig.ready()."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from voc.people.access import Capability, has_capability


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str
    capability: str
    order: int = 100
    enabled_setting: str | None = None  # a setting that must be true for the entry to exist


_items: dict[str, NavItem] = {}


def register_nav_item(item: NavItem) -> None:
    _items[item.key] = item


def nav_items_for(user) -> list[dict]:
    items = []
    for item in sorted(_items.values(), key=lambda i: (i.order, i.label)):
        if item.enabled_setting and not getattr(settings, item.enabled_setting, False):
            continue
        if has_capability(user, item.capability):
            items.append({"key": item.key, "label": item.label, "url": reverse(item.url_name)})
    return items


for _item in (
    NavItem("home", "Home", "home", Capability.VIEW_HOME, order=0),
    NavItem("people", "People", "people:directory", Capability.VIEW_PEOPLE, order=80),
    NavItem("tokens", "API tokens", "people:tokens", Capability.MANAGE_OWN_TOKENS, order=90),
    NavItem("api-docs", "API docs", "api-docs", Capability.VIEW_API_DOCS, order=91),
    NavItem("jobs", "Jobs", "core:jobs", Capability.VIEW_JOB_RUNS, order=200),
    NavItem("outbox", "Outbox", "core:outbox", Capability.VIEW_OUTBOX, 201, "OUTBOX_ENABLED"),
    NavItem(
        "settings", "Settings", "core:business-settings", Capability.MANAGE_BUSINESS_SETTINGS, 205
    ),
    NavItem("admin", "Admin", "admin:index", Capability.USE_ADMIN, order=210),
):
    register_nav_item(_item)
