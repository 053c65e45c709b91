"""The Django admin as VoC runs it: only the admin role may use it (README, "Access").

A signed-in user without it is refused with a 403, as on every other admin-only page, rather
than sent to the admin's own login form (which would invite them to sign in again as someone
else). Anonymous visitors still go to the admin login. Installed through ``VocAdminConfig``
in INSTALLED_APPS, so ``admin.site`` and every ``@admin.register`` use this site."""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied


class VocAdminSite(admin.AdminSite):
    site_header = "VoC administration"
    site_title = "VoC admin"

    def admin_view(self, view, cacheable=False):
        guarded_view = super().admin_view(view, cacheable)

        def inner(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return guarded_view(request, *args, **kwargs)

        return update_wrapper(inner, guarded_view)

    def login(self, request, extra_context=None):
        # The admin's login form for someone signed in without the admin role would only say
        # "not authorized"; refuse like the other admin-only pages.
        if request.user.is_authenticated and not self.has_permission(request):
            raise PermissionDenied
        return super().login(request, extra_context)


class VocAdminConfig(AdminConfig):
    default_site = "voc.people.admin_site.VocAdminSite"
