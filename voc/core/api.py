import re
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from voc.core.errors import Conflict


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request clashes with what is stored."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the refusals services raise: a Conflict as a 409 and Django's
    ValidationError as a 400, with messages by field, instead of a 500."""
    if isinstance(exc, Conflict):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ConflictError(detail=detail)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)


_DIGITS = re.compile(r"[0-9]+")


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """Limit/offset paging that answers 400 to a malformed ``limit`` or ``offset`` instead of
    quietly ignoring it, and never returns more than ``max_limit`` rows in one page."""

    max_limit = 200

    def get_limit(self, request: Request) -> int | None:
        value = self._query_int(request, self.limit_query_param, minimum=1)
        return self.default_limit if value is None else min(value, self.max_limit)

    def get_offset(self, request: Request) -> int:
        value = self._query_int(request, self.offset_query_param, minimum=0)
        return value or 0

    @staticmethod
    def _query_int(request: Request, name: str, *, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        invalid = exceptions.ValidationError(
            {name: [f"Enter a whole number of at least {minimum}."]}
        )
        if not _DIGITS.fullmatch(raw):
            raise invalid
        digits = raw.lstrip("0") or "0"
        # Python won't parse thousands of digits; 18 are more than any table has rows.
        value = int(digits) if len(digits) <= 18 else 10**18
        if value < minimum:
            raise invalid
        return value

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] += f" At most {self.max_limit}; larger values are capped."
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"]["minimum"] = 0
        return parameters


class StrictFilterSet(django_filters.FilterSet):
    """A FilterSet that answers 400 to a filter given without a value (``?role=``) instead of
    quietly not filtering: the schema says what a value must be, and blank isn't one. A
    single-valued filter given twice (``?team=1&team=2``) is refused too, rather than
    filtering by whichever came last."""

    def get_form_class(self) -> type[forms.Form]:
        names = list(self.filters)
        single = [
            name
            for name, filter_ in self.filters.items()
            if not isinstance(
                filter_, django_filters.MultipleChoiceFilter | django_filters.BaseCSVFilter
            )
            and not isinstance(filter_, django_filters.ModelMultipleChoiceFilter)
        ]

        # The base is the form class django-filter builds for this filter set's fields.
        class Form(super().get_form_class()):  # type: ignore[misc]
            def clean(self) -> dict[str, Any] | None:
                cleaned_data: dict[str, Any] | None = super().clean()
                for name in names:
                    if any(not value.strip() for value in self.data.getlist(name)):
                        self.add_error(name, "Give a value, or leave the parameter out.")
                    elif name in single and len(self.data.getlist(name)) > 1:
                        self.add_error(name, "Give this parameter once.")
                return cleaned_data

        return Form


class StrictCharField(serializers.CharField):
    """A CharField that takes only strings: DRF's turns ``{"name": 0}`` into ``"0"``, which
    the schema (``type: string``) says is invalid."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- Error documents, for the OpenAPI schema -------------------------------------------------


class ErrorSerializer(serializers.Serializer[object]):
    """An error: `{"detail": "..."}`."""

    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer[object]):
    """A 400: messages by field name (``detail`` for the request as a whole). Documented by
    :class:`ValidationErrorSchema`; it has no fields of its own."""


class ValidationErrorSchema(OpenApiSerializerExtension):
    target_class = "voc.core.api.ValidationErrorSerializer"

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        message = {"type": "string"}
        return {
            "type": "object",
            "description": "Messages by field name; `detail` for the request as a whole.",
            "additionalProperties": {
                "anyOf": [message, {"type": "array", "items": message}],
            },
        }


_ERRORS = {
    400: (ValidationErrorSerializer, "The request is not valid; messages by field."),
    401: (ErrorSerializer, "No valid credentials (missing, malformed, revoked or inactive)."),
    403: (ErrorSerializer, "The caller may not use this operation (or a CSRF check failed)."),
    404: (ErrorSerializer, "No such object, or not one the caller may see."),
    429: (ErrorSerializer, "Too many requests; try again later (see Retry-After)."),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Documented error responses for ``extend_schema(responses=...)``; 401 and 403 always.

    An id in the URL that is not a whole number matches no route and reaches
    ``api_not_found_view``: a JSON 404 like any other, so list 404 for such operations."""
    return {
        code: OpenApiResponse(response=_ERRORS[code][0], description=_ERRORS[code][1])
        for code in sorted({401, 403, *codes})
    }


@csrf_exempt  # it changes nothing; a CSRF failure would answer in HTML instead
def api_not_found_view(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Unknown URLs under /api/ answer in JSON, like the rest of the API."""
    return JsonResponse({"detail": "Not found."}, status=404)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def bad_request_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def page_not_found_view(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error_view(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)


# The range of the BIGINT keys every table uses.
_ID_MIN, _ID_MAX = -(2**63), 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """Rows whose foreign key holds this id. An unknown or unseen id matches nothing rather
    than failing, so ids outside the caller's scope can't be probed for existence; so does
    one no key can hold (SQLite would overflow on it)."""

    # The stubs declare NumberFilter's field as a DecimalField; ids are whole numbers.
    field_class = forms.IntegerField  # type: ignore[assignment]

    def filter(self, qs: QuerySet[Model], value: int | None) -> QuerySet[Model]:
        if value is not None and not _ID_MIN <= value <= _ID_MAX:
            return qs.none()
        return super().filter(qs, value)


def validated_data(
    serializer_class: type[serializers.BaseSerializer[Any]], request: Request, **kwargs: Any
) -> dict[str, Any]:
    """The serializer's validated data, or a 400 with messages by field. Nested errors are
    flattened to paths ("messages[0].text", "tags[3]") so every value is a list of messages,
    as the error schema says."""
    serializer = serializer_class(data=request.data, **kwargs)
    if not serializer.is_valid():
        raise exceptions.ValidationError(flatten_errors(serializer.errors))
    data: dict[str, Any] = serializer.validated_data
    return data


def flatten_errors(errors: object, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            if prefix and str(key).isdigit():
                name = f"{prefix}[{key}]"
            elif prefix:
                name = f"{prefix}.{key}"
            else:
                name = str(key)
            flat.update(flatten_errors(value, name))
    elif isinstance(errors, list) and any(isinstance(item, dict | list) for item in errors):
        for position, item in enumerate(errors):
            if item:
                flat.update(flatten_errors(item, f"{prefix}[{position}]"))
    elif isinstance(errors, list):
        flat[prefix or "detail"] = [str(message) for message in errors]
    else:
        flat[prefix or "detail"] = [str(errors)]
    return flat


def api_errors(*codes: int, conflict: bool = False) -> dict[int, OpenApiResponse]:
    responses = error_responses(*codes)
    if conflict:
        responses[409] = OpenApiResponse(
            response=ValidationErrorSerializer,
            description="Well formed, but clashes with what is stored (a duplicate, or a "
            "reason, team, user or department that doesn't exist); messages by field.",
        )
    return responses
