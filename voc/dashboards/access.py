"""Who sees the dashboard: executives and admins see everything; managers the same panels over
their own scope (the departments they head, the teams they lead: the selectors' row scope,
voc.people.access); reps have their worklist on the home page instead."""

from voc.core.capabilities import register_capabilities
from voc.people.roles import Role

VIEW_DASHBOARD = "dashboards.view"


def register_dashboard_capabilities() -> None:
    for role in (Role.MANAGER, Role.EXECUTIVE, Role.ADMIN):
        register_capabilities(role, VIEW_DASHBOARD)
