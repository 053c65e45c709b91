from django.conf import settings

from voc.people.navigation import nav_items_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "nav_items": nav_items_for(user) if user is not None else [],
        "site_name": settings.SITE_NAME,
        "company_name": settings.COMPANY_NAME,
    }
