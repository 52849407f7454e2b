"""The orchestrator's keys, and checking tokens that providers send us."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from protocol.http import signed_headers
from protocol.keys import KeySet, generate_private_key, jwks, load_private_key, private_key_to_pem, public_jwk
from protocol.tokens import TokenError, unverified_claims, verify_token

from ..models import Provider, SeenToken, SigningKey

KEY_CREATION_LOCK = 7_402_115  # any constant; names the advisory lock taken while creating the first key


def signing_key_create() -> SigningKey:
    """A new active key; it signs from now on. Older keys stay published until retired."""
    kid = f"{settings.FEDERATION_ID}-{timezone.now():%Y%m%d}-{secrets.token_hex(3)}"
    pem = private_key_to_pem(generate_private_key()).decode()
    return SigningKey.objects.create(kid=kid, private_pem=pem)


def signing_key_retire(*, kid: str) -> None:
    """Stop signing with and publishing `kid` (after providers have fetched the new key)."""
    SigningKey.objects.filter(kid=kid).update(active=False, published=False)


def current_signing_key() -> SigningKey:
    key = SigningKey.objects.filter(active=True).first()
    if key is not None:
        return key
    with transaction.atomic():
        # Two processes starting at once must not end with two keys; the lock serialises them.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [KEY_CREATION_LOCK])
        return SigningKey.objects.filter(active=True).first() or signing_key_create()


def published_jwks() -> dict:
    current_signing_key()
    entries = [
        public_jwk(load_private_key(key.private_pem.encode()), key.kid)
        for key in SigningKey.objects.filter(published=True)
    ]
    return jwks(*entries)


def request_headers(provider: Provider, body: bytes, *, method: str, path: str) -> dict:
    key = current_signing_key()
    return signed_headers(
        private_key=load_private_key(key.private_pem.encode()),
        kid=key.kid,
        issuer=settings.FEDERATION_ID,
        audience=provider.slug,
        method=method,
        path=path,
        body=body,
        lifetime=settings.PROVIDER_TOKEN_LIFETIME,
    )


class DatabaseReplayGuard:
    """Remembers accepted token ids per issuer in the database, so every web process refuses a replay."""

    def remember(self, issuer: str, jti: str, expires_at: int) -> bool:
        expires = dt.datetime.fromtimestamp(expires_at, tz=dt.UTC)
        try:
            with transaction.atomic():
                SeenToken.objects.create(issuer=issuer, jti=jti, expires_at=expires)
        except IntegrityError:
            return False
        return True


def seen_tokens_purge() -> int:
    deleted, _ = SeenToken.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


def _unknown_key() -> TokenError:
    """One answer for an unknown issuer, an unknown key and a disabled provider: ids cannot be probed."""
    return TokenError("unknown_key", "no key of an enabled provider matches this token")


def _provider_by_slug(slug: str) -> Provider | None:
    """The provider named `slug` (unique). Raw SQL: asked on every signed request, where composing the
    ORM's query cost more than running it."""
    return next(iter(Provider.objects.raw(_PROVIDER_BY_SLUG, [slug])), None)


_PROVIDER_BY_SLUG = f"SELECT * FROM {Provider._meta.db_table} WHERE slug = %s"  # noqa: S608  (a constant name)


def authenticate_provider(token: str, body: bytes, *, method: str, path: str) -> Provider:
    """The provider that signed `token` for this request (method, path and body), or TokenError."""
    claims = unverified_claims(token)
    issuer = claims.get("iss")
    provider = _provider_by_slug(issuer) if isinstance(issuer, str) and issuer else None
    if provider is None or provider.status == Provider.Status.DISABLED:
        raise _unknown_key()
    keys = KeySet(provider.jwks)
    try:
        verify_token(
            token,
            key_lookup=keys.get,
            audience=settings.FEDERATION_ID,
            issuer=provider.slug,
            replay_guard=DatabaseReplayGuard(),
            method=method,
            path=path,
            body=body,
            max_lifetime=settings.PROVIDER_TOKEN_MAX_LIFETIME,
        )
    except TokenError as exc:
        if exc.reason == "unknown_key":
            raise _unknown_key() from None
        raise
    return provider
