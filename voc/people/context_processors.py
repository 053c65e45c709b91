from django.conf import settings

from voc.core.capabilities import effective_role
from voc.core.navigation import nav_items_for, nav_search_for
from voc.people.roles import Role


def navigation(request) -> dict:
    """The nav bar and the user's badge. ``brand_name`` rather than ``site_name``: Django's
    auth views put the request's host in ``site_name``."""
    user = getattr(request, "user", None)
    role = effective_role(user) if user is not None else None
    return {
        "nav_items": nav_items_for(user, request.path) if user is not None else [],
        "nav_search": nav_search_for(user) if user is not None else None,
        "effective_role": role,
        "effective_role_label": Role(role).label if role else "",
        "brand_name": settings.SITE_NAME,
        "company_name": settings.COMPANY_NAME,
    }
