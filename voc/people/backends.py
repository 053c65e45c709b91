from django.contrib.auth.backends import ModelBackend

from voc.people.roles import Role


class RoleModelBackend(ModelBackend):
    """Django's backend, plus: an active admin has every model permission (the Django admin is
    theirs), whatever per-user permissions say. Inactive users have none."""

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        if user_obj.is_active and getattr(user_obj, "role", None) == Role.ADMIN:
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        if user_obj.is_active and getattr(user_obj, "role", None) == Role.ADMIN:
            return True
        return super().has_module_perms(user_obj, app_label)
