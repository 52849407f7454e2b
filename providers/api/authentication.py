from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from protocol.http import bearer_token
from protocol.tokens import TokenError
from providers.models import Provider
from providers.services import authenticate_provider


class ProviderTokenAuthentication(BaseAuthentication):
    """A provider's signed JWT, bound to the request's method, path and body; request.auth is the Provider."""

    def authenticate(self, request):
        token = bearer_token(request.META.get("HTTP_AUTHORIZATION"))
        if token is None:
            raise exceptions.AuthenticationFailed(
                {"detail": "A provider token is required: Authorization: Bearer <JWT>.", "reason": "missing"}
            )
        try:
            provider = authenticate_provider(
                token, request._request.body, method=request.method, path=request._request.path
            )
        except TokenError as exc:
            raise exceptions.AuthenticationFailed({"detail": exc.detail, "reason": exc.reason}) from None
        return AnonymousUser(), provider

    def authenticate_header(self, request):
        return 'Bearer realm="provider"'


class IsProvider(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, Provider)
