"""One place maps domain errors to HTTP: 400 bad input, 403 not allowed, 404 not visible, 409 wrong state."""

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views.defaults import page_not_found, permission_denied
from django.views.defaults import server_error as server_error_page
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.exceptions import DomainError, TooManyAttempts

from .parsers import PayloadTooLarge


def error_body(exc: DomainError) -> dict:
    """The message nested by the error's field path: `limits.gpus` → {"limits": {"gpus": [message]}}."""
    if not exc.path:
        return {"detail": exc.message}
    body = [exc.message]
    for key in reversed(exc.path):
        body = {key: body}
    return body


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = error_body(exc)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
        return Response(body, status=exc.status_code, headers=headers)
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):  # a body read by Django itself, past DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response({"detail": PayloadTooLarge().detail}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):  # e.g. more form fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


API_PREFIXES = ("/api/", "/api-auth/")


def not_found(request, exception):
    """404 for URLs no route matches: JSON under the API's prefixes, the portal's page (404.html) elsewhere."""
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)


def forbidden(request, exception):
    """403 for a PermissionDenied raised outside the API's views: JSON under the API's prefixes, the portal's
    page (403.html, with the reason when one was given) elsewhere."""
    if request.path.startswith(API_PREFIXES):
        return JsonResponse(
            {"detail": str(exception) or "You do not have permission to perform this action."},
            status=status.HTTP_403_FORBIDDEN,
        )
    return permission_denied(request, exception)


def server_error(request):
    """500 for uncaught errors: JSON under the API's prefixes, elsewhere 500.html rendered without a request
    (no context processors, no database), so the page shows even when the error came from those."""
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": "Server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return server_error_page(request)
