"""The base viewset of every app's API: uuid lookups, HEAD counts."""

from rest_framework import viewsets
from rest_framework.response import Response

from .schema import FederationAutoSchema


class BaseViewSet(viewsets.GenericViewSet):
    """Detail routes by uuid; HEAD on a list answers the count in X-Result-Count without rows.

    Permissions are the API's defaults (REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]): signed in, and
    read-only accounts (global support) refused every write, whatever the viewset.
    """

    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"
    schema = FederationAutoSchema()

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if request.method == "HEAD":
            return Response(headers={"X-Result-Count": str(queryset.count())})
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)
