from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from federation import services, token_cache
from federation.models import AuthToken
from federation.models.tokens import hash_token_key


class HashedTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`; the keyword is case-insensitive, the key is looked up by its hash.

    With TOKEN_CACHE_SECONDS set, a token that authenticated is kept in the shared cache and later
    requests query nothing for it; deleting the token or changing its user ends that at once
    (federation.token_cache).
    """

    keyword = "token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header: the key has invalid characters.") from None
        key_hash = hash_token_key(key)
        if not token_cache.enabled():
            return self._from_database(key_hash)
        token, generation = token_cache.lookup(key_hash)
        if token is None:
            user, token = self._from_database(key_hash)
            token_cache.remember(token, generation)
            return user, token
        used = token.last_used
        services.token_mark_used(token=token)
        if token.last_used != used:
            token_cache.remember(token, token.cached_generation)
        return token.user, token

    @staticmethod
    def _from_database(key_hash: str):
        """The one query a request spends on its token (with the user); every check made on it."""
        token = next(iter(AuthToken.objects.select_related("user").filter(key_hash=key_hash).order_by()[:1]), None)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.expires_at is not None and token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("Token has expired; log in again.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if not token.matches_password():
            raise exceptions.AuthenticationFailed("Token revoked: the password was changed; log in again.")
        services.token_mark_used(token=token)
        return token.user, token

    def authenticate_header(self, request):
        return "Token"


class HashedTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes HashedTokenAuthentication."""

    target_class = HashedTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; get a key from POST /api-auth/password/.",
        }
