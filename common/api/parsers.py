"""Request body parsers with bounds: body size, and how deep JSON may nest.

DRF's own parsers read the whole body whatever its size, and a deeply nested JSON document makes
the decoder overflow the stack (a 500). These refuse both as bad input before any view runs.
"""

from django.conf import settings
from django.http import QueryDict
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils import json

from common.validation import JSON_MAX_DEPTH, json_depth_exceeds


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self):
        super().__init__(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


def read_bounded(stream) -> bytes:
    """The body, refused when it is larger than DATA_UPLOAD_MAX_MEMORY_SIZE (as Django does for forms)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge()
    return body


class BoundedJSONParser(parsers.JSONParser):
    """JSON bodies of bounded size and nesting depth (JSON_MAX_DEPTH levels of lists and objects)."""

    max_depth = JSON_MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = read_bounded(stream)
        too_deep = ParseError(f"JSON parse error - nested deeper than {self.max_depth} levels.")
        try:
            data = json.loads(body.decode(encoding), parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise too_deep from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_depth_exceeds(data, self.max_depth):
            raise too_deep
        return data


class BoundedFormParser(parsers.FormParser):
    """URL-encoded forms of bounded size."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return QueryDict(read_bounded(stream), encoding=encoding)
