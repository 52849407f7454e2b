"""Fields that render related objects as URLs without one `reverse()` per row."""

import re
import uuid as uuid_lib

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.validation import validate_json_storable

_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
_UUID_RE = re.compile(r"([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})/?$")


def url_template(request, view_name: str) -> str:
    """The absolute detail URL of `view_name` with a placeholder for the uuid, cached per request."""
    cache = getattr(request, "_url_templates", None) if request is not None else None
    if cache is None:
        cache = {}
        if request is not None:
            request._url_templates = cache
    if view_name not in cache:
        path = reverse(view_name, kwargs={"uuid": _PLACEHOLDER})
        cache[view_name] = request.build_absolute_uri(path) if request is not None else path
    return cache[view_name]


def detail_url(request, view_name: str, value) -> str:
    return url_template(request, view_name).replace(_PLACEHOLDER, str(value))


def parse_uuid(value) -> uuid_lib.UUID | None:
    """A uuid given bare or as the last segment of a URL; None when there is none."""
    if isinstance(value, uuid_lib.UUID):
        return value
    if not isinstance(value, str):
        return None
    match = _UUID_RE.search(value.strip())
    if not match:
        return None
    try:
        return uuid_lib.UUID(match.group(1))
    except ValueError:
        return None


@extend_schema_field(OpenApiTypes.URI)
class UrlField(serializers.Field):
    """Read-only URL of an object whose uuid is at `source` (default: the object's own uuid)."""

    def __init__(self, view_name: str, **kwargs):
        self.view_name = view_name
        kwargs["read_only"] = True
        kwargs.setdefault("source", "uuid")
        super().__init__(**kwargs)

    def to_representation(self, value):
        # One field instance serves every row of a response: find the URL template once.
        template = self.__dict__.get("_template")
        if template is None:
            template = self._template = url_template(self.context.get("request"), self.view_name)
        return template.replace(_PLACEHOLDER, str(value))


@extend_schema_field(OpenApiTypes.URI)
class RelatedUrlField(serializers.Field):
    """A related object given as its URL (or bare uuid) and shown as its URL.

    `queryset` is a callable taking the request and returning the objects the caller may refer
    to, so an invisible object reads as "does not exist" rather than leaking its existence.
    """

    default_error_messages = {
        "invalid": "Expected a URL or UUID of the object.",
        "does_not_exist": "Object with this URL does not exist or is not visible to you.",
    }

    def __init__(self, view_name: str, queryset, **kwargs):
        self.view_name = view_name
        self.queryset_for = queryset
        super().__init__(**kwargs)

    def to_representation(self, value):
        return detail_url(self.context.get("request"), self.view_name, value.uuid)

    def to_internal_value(self, data):
        key = parse_uuid(data)
        if key is None:
            self.fail("invalid")
        obj = self.queryset_for(self.context["request"]).filter(uuid=key).first()
        if obj is None:
            self.fail("does_not_exist")
        return obj


class JSONValueField(serializers.JSONField):
    """A JSON value that can be stored as jsonb: no NUL (U+0000) in strings or keys, finite numbers,
    bounded nesting. Every JSON-typed input of the API uses it (or JSONObjectField)."""

    default_validators = [validate_json_storable]

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except RecursionError:  # a JSON string given in a form field, nested past the stack
            raise serializers.ValidationError("value: nested too deeply.") from None


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JSONObjectField(JSONValueField):
    """A JSON object (as JSONValueField)."""

    default_error_messages = {"not_object": "Expected an object."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_object")
        return value
