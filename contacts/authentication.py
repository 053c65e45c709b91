"""Authentication and rate limiting for systems that send contacts with an ingest token.

``Authorization: Ingest <key>``. A request authenticated this way has no user (``request.user``
is anonymous); ``request.auth`` is the :class:`~contacts.models.IngestToken`, and only the
operations that list :class:`IngestTokenAuthentication` accept it.
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from contacts.ingest.tokens import ingest_token_get_active, ingest_token_touch
from contacts.models import IngestToken
from voc.core.throttling import CacheFallbackMixin

DEFAULT_INGEST_RATE = "120/minute"


class IngestTokenAuthentication(authentication.BaseAuthentication):
    keyword = "ingest"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid ingest token header.")
        try:
            key = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid ingest token header.") from None
        token = ingest_token_get_active(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked ingest token.")
        ingest_token_touch(token=token)
        return AnonymousUser(), token

    def authenticate_header(self, request) -> str:
        return "Ingest"


def ingest_token_of(request) -> IngestToken | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, IngestToken) else None


class HasIngestToken(BasePermission):
    """The request came with an active ingest token (combine with ``|`` for people)."""

    def has_permission(self, request, view) -> bool:
        return ingest_token_of(request) is not None


class IngestTokenRateThrottle(CacheFallbackMixin, SimpleRateThrottle):
    """Requests per ingest token; people signed in are not counted here.

    The rate is ``settings.VOC_INGEST_RATE`` (e.g. ``"120/minute"``), read per request so it
    can be changed without touching ``REST_FRAMEWORK``. With the cache (Redis) down it counts
    per web process (see voc.core.throttling) instead of answering 500."""

    scope = "ingest"

    def get_rate(self) -> str:
        return getattr(settings, "VOC_INGEST_RATE", DEFAULT_INGEST_RATE)

    def get_cache_key(self, request, view) -> str | None:
        token = ingest_token_of(request)
        if token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class IngestTokenScheme(OpenApiAuthenticationExtension):
    target_class = "contacts.authentication.IngestTokenAuthentication"
    name = "ingestAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An ingest token an admin created for one source: "
            "`Ingest vocingest_…`. Rows are stored under the token's source.",
        }
