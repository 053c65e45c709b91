"""Capabilities: may this user use this feature at all? (Row scope, which rows, is
voc.people.access.)

A registry, so every app can declare and grant its own from its AppConfig.ready(): voc.people
grants the platform's capabilities below to its roles, contacts and later apps add theirs.
voc.core knows roles only as strings (the user's ``role``); a superuser counts as an admin and
an inactive user has no role at all.
"""

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

ADMIN_ROLE = "admin"  # the role a superuser counts as


class Capability(StrEnum):
    """The platform's own capabilities (an app declares its own strings next to its code)."""

    VIEW_HOME = "home.view"
    VIEW_PEOPLE = "people.view"
    MANAGE_OWN_TOKENS = "tokens.manage_own"
    VIEW_API_DOCS = "api.docs"
    VIEW_JOB_RUNS = "ops.job_runs"
    VIEW_OUTBOX = "ops.outbox"
    MANAGE_BUSINESS_SETTINGS = "settings.business"  # currency, costs, targets, allowances
    USE_ADMIN = "admin.use"


_granted: dict[str, frozenset[str]] = {}


def register_capabilities(role: str, *capabilities: str) -> None:
    """Grant ``role`` these capabilities (from an AppConfig.ready)."""
    _granted[role] = _granted.get(role, frozenset()) | frozenset(capabilities)


def role_capabilities(role: str | None) -> frozenset[str]:
    return _granted.get(role or "", frozenset())


def effective_role(user: Any) -> str | None:
    """The role a user acts in: None for anonymous and inactive users, admin for a
    superuser, else their own."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return ADMIN_ROLE if user.is_superuser else user.role


def has_capability(user: Any, capability: str) -> bool:
    role = effective_role(user)
    return role is not None and capability in role_capabilities(role)


def require_capability(user: Any, capability: str) -> None:
    if not has_capability(user, capability):
        raise PermissionDenied


def signed_in_user(request: HttpRequest) -> AbstractBaseUser:
    """The user behind a request that signing in (``capability_required``, the admin site) let
    through; PermissionDenied for an anonymous one."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


_P = ParamSpec("_P")
View = Callable[Concatenate[HttpRequest, _P], HttpResponseBase]


def capability_required(capability: str) -> Callable[[View[_P]], View[_P]]:
    """Sign-in required (anonymous users go to the login page), then the capability (403)."""

    def decorate(view: View[_P]) -> View[_P]:
        @functools.wraps(view)
        def wrapped(
            request: HttpRequest, /, *args: _P.args, **kwargs: _P.kwargs
        ) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            require_capability(request.user, capability)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
