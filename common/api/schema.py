"""The OpenAPI schema class of every view: page headers, error answers, blank read-only values."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentIdentity, ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import AllowAny

from .pagination import LinkHeaderPagination

PAGE_HEADERS = [
    OpenApiParameter(
        "X-Result-Count",
        OpenApiTypes.INT,
        location=OpenApiParameter.HEADER,
        response=[200],
        description="Number of objects in the whole list (all pages).",
    ),
    OpenApiParameter(
        "Link",
        OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        response=[200],
        description='Links to the first, prev, next and last pages (RFC 8288), e.g. `<…?page=2>; rel="next"`.',
    ),
]


_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# The answers of common.api.exceptions: {"detail": message}, and for bad input the fields at fault.
ERROR_RESPONSES = {
    "BadRequest": (
        "Bad input: each field at fault with its messages (nested for lists and objects); "
        "`detail` or `non_field_errors` when no single field is.",
        {"type": "object", "additionalProperties": {}},
    ),
    "Unauthorized": ("No valid credentials were given.", _DETAIL),
    "Forbidden": ("You may not do this.", _DETAIL),
    "NotFound": ("No such object, or it is not visible to you.", _DETAIL),
    "Conflict": ("The object is in the wrong state for this action; the message names the state.", _DETAIL),
    "TooManyRequests": ("Too many attempts; `Retry-After` says when to try again.", _DETAIL),
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class FederationAutoSchema(AutoSchema):
    """Documents the headers that carry what a page's body (a plain JSON array) leaves out, the
    error answers each operation can give, and blank values of read-only fields."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "GET" and self._is_list_view() and isinstance(self._get_paginator(), LinkHeaderPagination):
            parameters = [*parameters, *PAGE_HEADERS]
        return parameters

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            for code, name in self._error_codes(operation):
                operation["responses"].setdefault(str(code), self._error_response(name))
        return operation

    def _error_codes(self, operation) -> list[tuple[int, str]]:
        parameters = operation.get("parameters", [])
        signed_in = not all(isinstance(p, AllowAny) for p in self.view.get_permissions())
        codes = []
        if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
            codes.append((400, "BadRequest"))
        if signed_in:
            codes += [(401, "Unauthorized"), (403, "Forbidden")]
        if any(p.get("in") == "path" for p in parameters) or (self._is_list_view() and self._get_paginator()):
            codes.append((404, "NotFound"))  # no such object, or no such page
        if signed_in and self.method in UNSAFE_METHODS:
            codes.append((409, "Conflict"))
        if getattr(self.view, "throttle_classes", None):
            codes.append((429, "TooManyRequests"))
        return codes

    def _error_response(self, name: str) -> dict:
        description, schema = ERROR_RESPONSES[name]
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.RESPONSE,
            schema={"description": description, "content": {"application/json": {"schema": schema}}},
            object=ComponentIdentity(f"error-{name}"),
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # DRF drops `allow_blank` from read-only model fields; without it a blank e-mail, URL or
        # choice would be declared as a value that must match the format or the enum.
        if field.read_only and not getattr(field, "allow_blank", True) and _model_field_is_blank(field):
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)


def _model_field_is_blank(field) -> bool:
    """Whether a serializer field reads a text column of its serializer's model that may be blank."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return False
    try:
        model_field = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return False
    return isinstance(model_field, models.CharField | models.TextField) and model_field.blank
