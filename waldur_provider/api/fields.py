"""Waldur's sparse fieldsets: `?field=uuid&field=state` (or `?field=uuid,state`) keeps only those keys."""

from rest_framework.response import Response


def requested_fields(request) -> set[str]:
    names = set()
    for value in request.query_params.getlist("field"):
        names.update(part.strip() for part in value.split(",") if part.strip())
    return names


def sparse(data, request):
    """The serialized object (or list of objects) reduced to the requested fields, if any were asked."""
    names = requested_fields(request)
    if not names:
        return data
    if isinstance(data, list):
        return [{key: value for key, value in row.items() if key in names} for row in data]
    return {key: value for key, value in data.items() if key in names}


class SparseFieldsMixin:
    """Applies `?field=` to the list and detail answers of a viewset."""

    def get_paginated_response(self, data):
        return super().get_paginated_response(sparse(data, self.request))

    def retrieve(self, request, *args, **kwargs):
        return Response(sparse(self.get_serializer(self.get_object()).data, request))
