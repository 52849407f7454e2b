"""API token look-ups kept in the shared cache, so that most requests with a token query nothing for it.

On when TOKEN_CACHE_SECONDS > 0 (by default when CACHE_URL names a cache every web process shares).
An entry is what authenticating a token needs: the token's row and its user's, less the password
hash and the token's password fingerprint (the look-up that built the entry checked them). It is
stored under an HMAC of the token's hash keyed by SECRET_KEY (a new key leaves every entry behind),
lives TOKEN_CACHE_SECONDS at most and never past the token's expiry; only usable tokens get one.

Revocation stays immediate. Each token has a generation in the cache, read in the same round trip
as its entry; an entry records the generation it was built under and counts only while that is
still current. Deleting a token (revoke, logout, the clean-up at login, the admin, deleting its
user) replaces the token's generation, and saving a user (deactivation, a new password, staff or
support flags) replaces those of all the user's tokens: right away, and again when the transaction
commits, because a request that read the database before the commit may have cached the old rows
under the generation set in between. An entry is only built under a generation read before the
rows, so the one replaced on commit is never the one it holds; the tokens of a user are listed
again on commit, so a token issued meanwhile is not missed. A token gets its first generation when
it is issued (or first authenticates, when it has none: issued before the cache was on, or its
generation lapsed or was evicted); until then it has no entry.

A bulk `QuerySet.update()` of users or tokens sends no signal: code that changes them that way must
call `forget_user` (the entries' lifetime bounds what it would miss).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import AuthToken, User

_SALT = "federation.token_cache"
TOKEN_FIELDS = ("id", "uuid", "key_hash", "prefix", "user_id", "created", "expires_at", "last_used")
USER_FIELDS = tuple(f.attname for f in User._meta.concrete_fields if f.attname != "password")


def enabled() -> bool:
    return settings.TOKEN_CACHE_SECONDS > 0


def _entry_key(key_hash: str) -> str:
    return "authtoken:" + salted_hmac(_SALT, key_hash, algorithm="sha256").hexdigest()


def _generation_key(key_hash: str) -> str:
    return "authtoken-generation:" + salted_hmac(_SALT + ".generation", key_hash, algorithm="sha256").hexdigest()


def lookup(key_hash: str) -> tuple[AuthToken | None, str | None]:
    """(the cached token with its user, or None; the token's generation).

    On a miss, the generation returned (read before the caller reads the database) is the one to pass
    to `remember`.
    """
    entry_key, generation_key = _entry_key(key_hash), _generation_key(key_hash)
    found = cache.get_many([entry_key, generation_key])
    entry, generation = found.get(entry_key), found.get(generation_key)
    if generation is None:
        return None, None
    if entry is None or entry["generation"] != generation:
        return None, generation
    token = _token_from(entry)
    if token.expires_at is not None and token.expires_at <= timezone.now():
        return None, generation
    return token, generation


def remember(token: AuthToken, generation: str | None) -> None:
    """Keep a token that has just authenticated, under `generation` (read before its rows were). With
    none, give the token one: the next request, reading it first, builds the entry."""
    if generation is None:
        issued(token.key_hash)
        return
    timeout = settings.TOKEN_CACHE_SECONDS
    if token.expires_at is not None:
        timeout = min(timeout, int((token.expires_at - timezone.now()).total_seconds()))
    if timeout <= 0:
        return
    entry = {
        "generation": generation,
        "token": {name: getattr(token, name) for name in TOKEN_FIELDS},
        "user": {name: getattr(token.user, name) for name in USER_FIELDS},
    }
    cache.set(_entry_key(token.key_hash), entry, timeout=timeout)


def _token_from(entry: dict) -> AuthToken:
    user = User.from_db(DEFAULT_DB_ALIAS, list(USER_FIELDS), [entry["user"][name] for name in USER_FIELDS])
    token = AuthToken.from_db(DEFAULT_DB_ALIAS, list(TOKEN_FIELDS), [entry["token"][name] for name in TOKEN_FIELDS])
    token.user = user
    token.cached_generation = entry["generation"]
    return token


def issued(key_hash: str) -> None:
    """A new (or newly seen) valid token gets its first generation. Unknown keys never get one: guessing
    fills no cache."""
    if enabled():
        cache.add(_generation_key(key_hash), uuid.uuid4().hex, timeout=_generation_timeout())


def forget_user(user_id: int) -> None:
    """Drop every cached token of the user: now, and again (listing them anew) when the transaction commits."""
    if not enabled():
        return
    _forget_tokens_of(user_id)
    transaction.on_commit(lambda: _forget_tokens_of(user_id))


def forget_token(key_hash: str) -> None:
    """Drop the cached token: now, and again when the transaction commits."""
    if not enabled():
        return
    _new_generations([key_hash])
    transaction.on_commit(lambda: _new_generations([key_hash]))


def _forget_tokens_of(user_id: int) -> None:
    _new_generations(list(AuthToken.objects.filter(user_id=user_id).values_list("key_hash", flat=True)))


def _new_generations(key_hashes: list[str]) -> None:
    if key_hashes:
        cache.set_many({_generation_key(h): uuid.uuid4().hex for h in key_hashes}, timeout=_generation_timeout())


def _generation_timeout() -> int:
    """Longer than any entry lives; one that lapses only makes its entry miss."""
    return 2 * settings.TOKEN_CACHE_SECONDS + 60


def _user_saved(sender, instance, **kwargs):
    forget_user(instance.pk)


def _token_deleted(sender, instance, **kwargs):
    forget_token(instance.key_hash)


post_save.connect(_user_saved, sender=User, dispatch_uid="token_cache.user_saved")
post_delete.connect(_token_deleted, sender=AuthToken, dispatch_uid="token_cache.token_deleted")
