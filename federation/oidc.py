"""Portal login through OIDC: the user is found, created or updated by its CUID claim."""

import functools
import logging

import jwt
import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.urls import path
from mozilla_django_oidc import urls as oidc_urls
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from common.exceptions import DomainError

from .identity import user_sync_from_claims
from .models import User

logger = logging.getLogger(__name__)


class FederationOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, with the checks it leaves out.

    The library verifies the signature and the nonce of the ID token but not its audience, lets
    PyJWT's expiry errors escape as server errors, and trusts the userinfo answer without
    comparing its subject to the ID token's. Any refusal is logged and ends as a failed login.
    """

    def authenticate(self, request, **kwargs):
        try:
            return super().authenticate(request, **kwargs)
        except SuspiciousOperation as exc:
            logger.warning("OIDC login refused: %s", exc)
        except requests.RequestException as exc:
            logger.warning("OIDC login failed, the identity provider did not answer: %s", exc)
        return None

    def verify_token(self, token, **kwargs):
        try:
            payload = super().verify_token(token, **kwargs)
        except jwt.InvalidTokenError as exc:  # expired, not yet valid, malformed
            raise SuspiciousOperation(f"ID token rejected: {exc}") from None
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token was issued for another client (aud).")
        issuer = self.get_settings("OIDC_OP_ISSUER", "")
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation(f"ID token issuer {payload.get('iss')!r} is not {issuer!r}.")
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        claims = super().get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo subject differs from the ID token's.")
        return {**payload, **claims}

    def _cuid(self, claims) -> str:
        return str(claims.get(settings.OIDC_CUID_CLAIM) or "")

    def verify_claims(self, claims):
        return bool(self._cuid(claims))

    def filter_users_by_claims(self, claims):
        cuid = self._cuid(claims)
        return User.objects.filter(cuid=cuid) if cuid else User.objects.none()

    def create_user(self, claims):
        return self._sync(claims)

    def update_user(self, user, claims):
        return self._sync(claims)

    def _sync(self, claims) -> User:
        try:
            return user_sync_from_claims(cuid=self._cuid(claims), claims=claims, method="oidc")
        except DomainError as exc:
            raise SuspiciousOperation(exc.message) from None


def _only_when_enabled(view):
    """The view while OIDC is configured; a plain 404 otherwise (no redirect loop to an unset provider)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.OIDC_ENABLED:
            raise Http404("OIDC login is not configured.")
        return view(request, *args, **kwargs)

    return wrapped


def urlpatterns_when_enabled() -> list:
    """mozilla-django-oidc's routes, each answering only while `OIDC_ENABLED` is set."""
    return [
        path(str(pattern.pattern), _only_when_enabled(pattern.callback), name=pattern.name)
        for pattern in oidc_urls.urlpatterns
    ]
