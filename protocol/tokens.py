"""Short-lived signed JWTs carried by every protocol request, in both directions.

A token names who sent it (iss, and sub, which must be the same), who it is for (aud), when it
stops being valid (exp, at most `max_lifetime` after iat) and a unique id (jti) that the receiver
remembers per issuer until the token expires, so a captured request cannot be played again. It is
made for one request: `htm` and `htp` are the HTTP method and path it may be used for, and a token
sent with a request body carries `bsh`, the SHA-256 of the exact body bytes, so the token can be
lifted neither onto another endpoint nor onto another body.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol.keys import ALGORITHM, b64url_encode

REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "exp", "jti", "htm", "htp")
MAX_JTI_LENGTH = 255


class TokenError(Exception):
    """The token is not acceptable; `reason` is a short machine-readable word."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail or reason


class ReplayGuard(Protocol):
    def remember(self, issuer: str, jti: str, expires_at: int) -> bool:
        """Record `jti` of `issuer` until `expires_at`; True the first time it is seen, False afterwards."""


class MemoryReplayGuard:
    """Remembers token ids per issuer in memory until they expire. Thread-safe."""

    def __init__(self, purge_every: float = 5.0):
        self._seen: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._purge_every = purge_every
        self._next_purge = 0.0

    def remember(self, issuer: str, jti: str, expires_at: int) -> bool:
        now = time.time()
        key = (issuer, jti)
        with self._lock:
            if now >= self._next_purge:
                self._seen = {k: exp for k, exp in self._seen.items() if exp >= now}
                self._next_purge = now + self._purge_every
            expires = self._seen.get(key)
            if expires is not None and expires >= now:
                return False
            self._seen[key] = expires_at
            return True

    def __len__(self) -> int:
        return len(self._seen)


def body_hash(body: bytes) -> str:
    return b64url_encode(hashlib.sha256(body).digest())


def issue_token(
    *,
    private_key: Ed25519PrivateKey,
    kid: str,
    issuer: str,
    audience: str,
    subject: str,
    method: str,
    path: str,
    lifetime: int = 120,
    body: bytes | None = None,
    now: int | None = None,
) -> str:
    """A token for one request: `method` and `path` (without the query string) of that request."""
    iat = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": iat,
        "exp": iat + lifetime,
        "jti": uuid.uuid4().hex,
        "htm": method.upper(),
        "htp": path,
    }
    if body is not None:
        claims["bsh"] = body_hash(body)
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})


def unverified_claims(token: str) -> dict:
    """The claims without any check, to pick the sender (iss) whose keys will verify the token."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise TokenError("malformed", f"token cannot be decoded: {exc}") from None
    if not isinstance(claims, dict):
        raise TokenError("malformed", "claims are not an object")
    return claims


def verify_token(
    token: str,
    *,
    key_lookup: Callable[[str], Ed25519PublicKey | None],
    audience: str,
    replay_guard: ReplayGuard,
    method: str,
    path: str,
    body: bytes | None = None,
    issuer: str | None = None,
    max_lifetime: int = 300,
    leeway: int = 10,
) -> dict:
    """Check `token` completely for a request of `method` to `path` and return its claims, or raise TokenError.

    The replay guard is consulted last, so a token that fails any other check does not use up its jti.
    """
    kid = _checked_kid(token)
    key = key_lookup(kid)
    if key is None:
        raise TokenError("unknown_key", f"no key with kid {kid!r}")
    claims = _decode(token, key, audience=audience, issuer=issuer, leeway=leeway)
    iat, exp, jti = claims["iat"], claims["exp"], claims["jti"]
    if not isinstance(iat, int) or not isinstance(exp, int) or exp <= iat:
        raise TokenError("malformed", "iat and exp must be integers with exp after iat")
    if exp - iat > max_lifetime:
        raise TokenError("lifetime_too_long", f"token lifetime over {max_lifetime} s")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise TokenError("malformed", f"jti must be a non-empty string of at most {MAX_JTI_LENGTH} characters")
    if not isinstance(claims["iss"], str) or not claims["iss"]:
        raise TokenError("malformed", "iss must be a non-empty string")
    if claims["sub"] != claims["iss"]:
        raise TokenError("bad_subject", "sub must equal iss")
    _check_request(claims, method, path)
    _check_body(claims, body)
    if not replay_guard.remember(claims["iss"], jti, exp + leeway):
        raise TokenError("replayed", "token already used")
    return claims


def _checked_kid(token: str) -> str:
    if not isinstance(token, str) or not token:
        raise TokenError("malformed", "no token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise TokenError("malformed", f"token cannot be decoded: {exc}") from None
    if header.get("alg") != ALGORITHM:
        raise TokenError("bad_algorithm", f"only {ALGORITHM} is accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenError("malformed", "header has no kid")
    return kid


def _decode(token: str, key: Ed25519PublicKey, *, audience: str, issuer: str | None, leeway: int) -> dict:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("expired", "token has expired") from None
    except jwt.InvalidAudienceError:
        raise TokenError("bad_audience", f"token is not meant for {audience!r}") from None
    except jwt.InvalidIssuerError:
        raise TokenError("bad_issuer", f"token is not issued by {issuer!r}") from None
    except jwt.ImmatureSignatureError:
        raise TokenError("not_yet_valid", "token is issued in the future") from None
    except jwt.InvalidSignatureError:
        raise TokenError("bad_signature", "signature does not verify") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenError("malformed", f"missing claim {exc.claim!r}") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError("malformed", str(exc)) from None


def _check_request(claims: dict, method: str, path: str) -> None:
    if claims["htm"] != method.upper() or claims["htp"] != path:
        raise TokenError("request_mismatch", f"token is not made for {method.upper()} {path}")


def _check_body(claims: dict, body: bytes | None) -> None:
    bound = claims.get("bsh")
    if bound is None:
        if body:
            raise TokenError("body_mismatch", "a request with a body needs a token carrying bsh")
        return
    if body is not None and bound != body_hash(body):
        raise TokenError("body_mismatch", "bsh does not match the request body")
