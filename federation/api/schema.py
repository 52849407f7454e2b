"""OpenAPI descriptions of our own authentication and field classes (loaded by the app's ready())."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

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


class FederationAutoSchema(AutoSchema):
    """Documents the headers that carry what a page's body (a plain JSON array) leaves out."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "GET" and self._is_list_view() and isinstance(self._get_paginator(), LinkHeaderPagination):
            parameters = [*parameters, *PAGE_HEADERS]
        return parameters


class HashedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "federation.api.authentication.HashedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; get a key from POST /api-auth/password/.",
        }
