"""Portal login through OIDC: the user is found, created or updated by its CUID claim."""

from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from .identity import user_sync_from_claims
from .models import User


class FederationOIDCBackend(OIDCAuthenticationBackend):
    def _cuid(self, claims) -> str:
        return str(claims.get(settings.OIDC_CUID_CLAIM) or "")

    def verify_claims(self, claims):
        return bool(self._cuid(claims))

    def filter_users_by_claims(self, claims):
        cuid = self._cuid(claims)
        return User.objects.filter(cuid=cuid) if cuid else User.objects.none()

    def create_user(self, claims):
        return user_sync_from_claims(cuid=self._cuid(claims), claims=claims, method="oidc")

    def update_user(self, user, claims):
        return user_sync_from_claims(cuid=self._cuid(claims), claims=claims, method="oidc")
