"""A cache of the dashboard's panels: a panel's figures are computed once and served again
to the same scope with the same filters, until new data comes in, and never when older than
``MAX_AGE`` (60 seconds).

- **Key**: the panel, the filters (every field of DashboardFilters: period, days, channel,
  team, segment), the data version (voc/core/dataversion.py: it changes each time contact or
  feedback rollups or survey invitations are written) and who is looking. For the panels in ``SCOPE_ONLY``, which
  read only rollups and selectors scoped by ``voc.people.access.scope_for``, who is looking
  is the row scope itself (everything, or the exact team and department ids): two executives
  share entries, a manager never shares one with a viewer of another scope. Any other panel
  (one that reads issues, whose scope also holds what a manager owns, opened or was told
  about, or a person's own figures) is keyed on the viewer too.
- **Age**: each entry stores when it was computed; one older than ``MAX_AGE`` is not served
  (the cache's own timeout says the same, this holds even if it does not expire on time).
  Figures from data the version does not cover (issues or sessions, say) are thus at most a
  minute old.
- **Off**: the setting ``VOC_DASHBOARD_CACHE`` (on by default) and ``?cache=off`` on a
  dashboard request (neither read nor written). A cache that is down is passed over: the
  panel is computed as if there were none.

The home page's summary of the dashboard (voc/dashboards/home.py) is cached the same way, as
the panel ``home-summary``; a home widget is given only its viewer, so there the setting alone
turns the cache off.
"""

import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from voc.core.dataversion import data_version
from voc.dashboards.filters import DashboardFilters
from voc.dashboards.panels import Panel
from voc.people.access import scope_for
from voc.people.models import User

MAX_AGE = 60  # seconds
SCOPE_ONLY = frozenset(
    {
        "reasons-by-week",
        "top-drivers",
        "rising-drivers",
        "avoidable",
        "service",
        "scores",
        "survey-fatigue",
        "home-summary",
    }
)
logger = logging.getLogger(__name__)


def cache_on() -> bool:
    """The setting ``VOC_DASHBOARD_CACHE``."""
    return bool(getattr(settings, "VOC_DASHBOARD_CACHE", True))


def cache_enabled(request: HttpRequest) -> bool:
    return cache_on() and request.GET.get("cache") != "off"


def _viewer_part(panel: Panel, viewer: User) -> str:
    scope = scope_for(viewer)
    if scope.everything:
        scoped = "all"
    else:
        teams = ",".join(map(str, sorted(scope.team_ids)))
        departments = ",".join(map(str, sorted(scope.department_ids)))
        scoped = f"teams={teams};departments={departments}"
    if panel.key in SCOPE_ONLY:
        return scoped
    return f"user={viewer.pk};{scoped}"


def panel_cache_key(panel: Panel, viewer: User, filters: DashboardFilters, version: str) -> str:
    raw = "|".join(
        (
            panel.key,
            _viewer_part(panel, viewer),
            repr(filters),  # a frozen dataclass of plain values: every filter, in order
            version,
        )
    )
    return "voc:panel:" + hashlib.sha256(raw.encode()).hexdigest()


def panel_context(
    panel: Panel, viewer: User, filters: DashboardFilters, *, use_cache: bool
) -> dict[str, Any]:
    """The panel's figures for ``viewer`` and ``filters``: from the cache when a fresh entry
    is there, else computed (and stored when ``use_cache``)."""
    if not use_cache:
        return panel.compute(viewer, filters)
    version = data_version() or "none"
    key = panel_cache_key(panel, viewer, filters, version)
    try:
        entry = cache.get(key)
    except Exception:  # a cache that is down: compute as if there were none
        logger.warning("dashboard cache unavailable", exc_info=True)
        return panel.compute(viewer, filters)
    now = time.time()
    if entry is not None:
        computed_at, context = entry
        if 0 <= now - computed_at <= MAX_AGE:
            return context
    context = panel.compute(viewer, filters)
    try:
        cache.set(key, (now, context), timeout=MAX_AGE)
    except Exception:
        logger.warning("dashboard cache unavailable", exc_info=True)
    return context
