"""Registering providers, their keys and offering links; user connection requests."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import transaction

from common.exceptions import PermissionDenied, UpstreamUnavailable, ValidationFailed
from federation.models import Customer, User
from federation.permissions import is_operator, may_write
from protocol.keys import KeySet

from ..client import ProviderCallFailed, ProviderClient
from ..models import Provider, ProviderOffering, UserConnection
from ..selectors import providers_connectable_by

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")


def _check_jwks(jwks) -> dict:
    try:
        keys = KeySet(jwks)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationFailed(f"Not a usable JWKS: {exc}", field="jwks") from None
    if not len(keys):
        raise ValidationFailed('At least one Ed25519 key with a "kid" is required.', field="jwks")
    return jwks


def provider_register(
    *,
    actor: User,
    slug: str,
    domain: str,
    customer: Customer,
    jwks: dict,
    name: str | None = None,
    https: bool = True,
    env: str = Provider.Env.PRODUCTION,
) -> Provider:
    """Staff register providers; the manifest is pulled right after the registration commits."""
    if not is_operator(actor):
        raise PermissionDenied("Only staff may register providers.")
    if not SLUG_RE.match(slug or ""):
        raise ValidationFailed("Lower-case letters, digits and dashes, at most 50.", field="slug")
    if Provider.objects.filter(slug=slug).exists():
        raise ValidationFailed("A provider with this id already exists.", field="slug")
    if env not in Provider.Env.values:
        raise ValidationFailed(f"One of {', '.join(Provider.Env.values)}.", field="env")
    provider = Provider.objects.create(
        slug=slug, name=name or slug, domain=domain, customer=customer, jwks=_check_jwks(jwks), https=https, env=env
    )
    from ..tasks import pull_manifest

    transaction.on_commit(lambda: pull_manifest.delay(provider.id))
    return provider


def provider_update_keys(*, actor: User, provider: Provider, jwks: dict) -> Provider:
    """Replace the provider's published keys (rotation: publish old and new together, then drop the old)."""
    if not is_operator(actor):
        raise PermissionDenied("Only staff may change provider keys.")
    provider.jwks = _check_jwks(jwks)
    provider.save(update_fields=["jwks"])
    return provider


def offering_link_provider(*, offering, provider: Provider) -> ProviderOffering:
    link, _ = ProviderOffering.objects.update_or_create(offering=offering, defaults={"provider": provider})
    return link


def connection_request(*, user: User, provider: Provider, return_url: str = "") -> UserConnection:
    """Ask the provider where to send the user to log in locally; it confirms the username later.

    Only those who can use an account there may ask: staff, and members of a project with a
    resource at the provider. The call is made while the client waits, so it is bounded by
    PROVIDER_CONNECT_TIMEOUT (a few seconds), and a provider known to be down is not called at all.
    `return_url`, when given, is where the provider sends the browser back once it is done.
    """
    if not may_write(user) or not providers_connectable_by(user).filter(id=provider.id).exists():
        raise PermissionDenied("Only members of a project with a resource at this provider may connect to it.")
    if provider.status != Provider.Status.ENABLED:
        raise ValidationFailed(f"Provider {provider.slug} is {provider.status}.", field="provider")
    if not provider.available:
        raise UpstreamUnavailable(f"Provider {provider.slug} is not answering at the moment; try again later.")
    connection = UserConnection.objects.create(user=user, provider=provider)
    payload = {
        "connection_id": str(connection.uuid),
        "user_uuid": str(user.uuid),
        "email": user.email,
        "full_name": user.full_name,
    }
    if return_url:
        payload["return_url"] = return_url
    try:
        timeout = min(settings.PROVIDER_CONNECT_TIMEOUT, settings.PROVIDER_TIMEOUT)
        answer = ProviderClient(provider, timeout=timeout).request_connection(payload)
    except ProviderCallFailed as exc:
        connection.delete()
        raise UpstreamUnavailable(f"The provider could not start the connection: {exc.message}") from None
    connection.redirect_url = str(answer.get("redirect_url", ""))[:500]
    connection.save(update_fields=["redirect_url"])
    return connection
