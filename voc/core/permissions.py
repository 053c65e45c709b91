"""DRF permission classes on the capability rules the pages use (voc.core.capabilities).
Kept apart from voc.core.api: DRF reads the default one from settings while rest_framework.views
is still loading."""

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views is still loading when DRF imports this module
    from rest_framework.views import APIView

from voc.core.capabilities import effective_role, has_capability


class IsActiveUser(BasePermission):
    """The API's default: a signed-in, active user of any role."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return effective_role(request.user) is not None


def HasCapability(capability: str) -> type[BasePermission]:
    """A DRF permission class for one capability, built on the same rules as the pages."""

    class _HasCapability(BasePermission):
        def has_permission(self, request: Request, view: "APIView") -> bool:
            return has_capability(request.user, capability)

    _HasCapability.__name__ = f"HasCapability[{capability}]"
    return _HasCapability
