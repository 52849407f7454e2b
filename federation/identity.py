"""Federated identities: CUID lookups in the identity registry, and users from OIDC claims."""

from __future__ import annotations

import logging
from urllib.parse import quote

import requests
from django.conf import settings
from django.db import IntegrityError, transaction

from common.exceptions import NotFound, PermissionDenied, UpstreamUnavailable, ValidationFailed

from .models import User
from .permissions import can_look_up_identities, grantable_roles, is_operator

logger = logging.getLogger(__name__)


def user_create(
    *, actor, username: str, full_name: str | None = "", email: str | None = "", cuid: str | None = None
) -> User:
    """Only staff create users; the username and the CUID must be free. The user has no usable password."""
    if not is_operator(actor):
        raise PermissionDenied("Only staff may create users.")
    username = (username or "").strip()
    if User.objects.filter(username=username).exists():
        raise ValidationFailed("A user with that username already exists.", field="username")
    if cuid and User.objects.filter(cuid=cuid).exists():
        raise ValidationFailed("A user with this CUID already exists.", field="cuid")
    user = User(username=username, full_name=full_name or "", email=email or "", cuid=cuid or None)
    user.set_unusable_password()
    user.save()
    return user


def _full_name(claims: dict) -> str:
    name = claims.get("name") or " ".join(filter(None, [claims.get("given_name"), claims.get("family_name")]))
    return str(name or "")[:200]


def user_sync_from_claims(*, cuid: str, claims: dict, method: str) -> User:
    """Create the user with this CUID, or refresh its name and email from the claims."""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(cuid=cuid).first()
        if user is None:
            username = cuid[:150]
            if User.objects.filter(username=username).exists():
                raise ValidationFailed(f"A local user named {username!r} exists without this CUID.", field="cuid")
            user = User(username=username, cuid=cuid, registration_method=method)
            user.set_unusable_password()
        user.full_name = _full_name(claims) or user.full_name
        user.email = str(claims.get("email") or user.email)[:254]
        try:
            user.save()
        except IntegrityError:
            raise ValidationFailed("This CUID was registered at the same time; retry.", field="cuid") from None
    return user


def fetch_registry_claims(cuid: str) -> dict:
    """GET <IDENTITY_REGISTRY_URL>/<cuid> → the person's claims; 404 means the registry does not know them."""
    url = settings.IDENTITY_REGISTRY_URL.rstrip("/") + "/" + quote(cuid, safe="")
    headers = {"Accept": "application/json"}
    if settings.IDENTITY_REGISTRY_TOKEN:
        headers["Authorization"] = f"Bearer {settings.IDENTITY_REGISTRY_TOKEN}"
    try:
        response = requests.get(url, headers=headers, timeout=settings.IDENTITY_REGISTRY_TIMEOUT)
    except requests.RequestException as exc:
        logger.warning("identity registry unreachable: %s", exc)
        raise UpstreamUnavailable(f"The identity registry is unreachable: {exc.__class__.__name__}.") from None
    if response.status_code == 404:
        raise NotFound(f"No user with CUID {cuid!r} is known here or in the identity registry.")
    if response.status_code != 200:
        raise UpstreamUnavailable(f"The identity registry answered HTTP {response.status_code}.")
    try:
        claims = response.json()
    except ValueError:
        raise UpstreamUnavailable("The identity registry answered with something that is not JSON.") from None
    if not isinstance(claims, dict):
        raise UpstreamUnavailable("The identity registry answered with an unexpected document.")
    return claims


def user_from_cuid(*, actor: User, cuid: str) -> User:
    """The local user with this CUID; created from the identity registry's claims when missing.

    Staff and identity managers (`is_identity_manager`) may; global support may not, as the look-up
    can create a user.
    """
    if not can_look_up_identities(actor):
        raise PermissionDenied("Only staff and identity managers may look up users by CUID.")
    cuid = cuid.strip()
    if not cuid:
        raise ValidationFailed("This field may not be blank.", field="cuid")
    user = User.objects.filter(cuid=cuid).first()
    if user is not None:
        return user
    if not settings.IDENTITY_REGISTRY_URL:
        raise NotFound(f"No user with CUID {cuid!r} exists, and no identity registry is configured.")
    return user_sync_from_claims(cuid=cuid, claims=fetch_registry_claims(cuid), method="remote-eduteams")


def user_for_membership(*, actor: User, scope, identifier: str) -> User:
    """The person to add to `scope`'s team, named by their e-mail address or CUID.

    Only someone who may grant a role on `scope` may look people up here. A CUID known locally comes
    first, then an e-mail address (one account only); a CUID unknown here is asked of the identity
    registry (creating the user) when the actor may look up identities, as /api/remote-eduteams/ does.
    """
    if not grantable_roles(actor, scope=scope):
        raise PermissionDenied("You may not add members here.")
    identifier = (identifier or "").strip()
    if not identifier:
        raise ValidationFailed("Give the person's e-mail address or CUID.", field="user")
    user = User.objects.filter(cuid=identifier).first()
    if user is not None:
        return user
    by_email = list(User.objects.filter(email__iexact=identifier, is_active=True)[:2])
    if len(by_email) > 1:
        raise ValidationFailed(
            f"Several accounts have the e-mail address {identifier}; give the person's CUID instead.", field="user"
        )
    if by_email:
        return by_email[0]
    if can_look_up_identities(actor) and settings.IDENTITY_REGISTRY_URL:
        try:
            return user_from_cuid(actor=actor, cuid=identifier)
        except NotFound:
            pass
    raise ValidationFailed(
        f"No account with the e-mail address or CUID {identifier} is known. The person logs in once to get"
        " an account; then add them here.",
        field="user",
    )
