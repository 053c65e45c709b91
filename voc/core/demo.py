"""Demo data: each app registers a seeder from its AppConfig.ready(); ``manage.py seed_demo``
runs them in INSTALLED_APPS order (people first), each adding its own rows."""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps


@dataclass
class DemoContext:
    """Shared by the seeders of one run: a seeded random source, the size asked for, and
    whatever earlier seeders left for later ones (``ctx.data["users"]`` ...)."""

    rng: random.Random
    customers: int
    contacts: int = 0
    stdout: Callable[[str], None] = print
    data: dict[str, Any] = field(default_factory=dict)


_seeders: dict[str, Callable[[DemoContext], None]] = {}


def register_demo_seeder(app_label: str, seeder: Callable[[DemoContext], None]) -> None:
    _seeders[app_label] = seeder


def demo_seeders() -> list[tuple[str, Callable[[DemoContext], None]]]:
    """In INSTALLED_APPS order; an app's parts ("feedback.surveys") after the app, in the
    order they registered (the sort is stable)."""
    order = [config.label for config in apps.get_app_configs()]
    return sorted(_seeders.items(), key=lambda item: order.index(item[0].split(".")[0]))
