"""Talking to the orchestrator: signed requests out, and its public keys for requests coming in."""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol.http import bearer_token, encode_body, signed_headers
from protocol.keys import KeySet
from protocol.tokens import ReplayGuard, TokenError, verify_token

log = logging.getLogger("site_agent.orchestrator")

UPDATES_PATH = "/api/provider/orders/updates/"
USAGE_PATH = "/api/provider/usage/"
CONNECTIONS_PATH = "/api/provider/connections/"


class OrchestratorClient:
    """Signs every request with the agent's key; one HTTP session per thread, so connections are reused."""

    def __init__(
        self, *, url: str, audience: str, provider_id: str, private_key: Ed25519PrivateKey, kid: str, timeout: float
    ):
        self.url = url.rstrip("/")
        self.audience = audience
        self.provider_id = provider_id
        self.private_key = private_key
        self.kid = kid
        self.timeout = timeout
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def post(self, path: str, payload: object) -> requests.Response:
        """POST `payload` as JSON; raises requests.RequestException when the orchestrator cannot be reached."""
        body = encode_body(payload)
        headers = signed_headers(
            private_key=self.private_key,
            kid=self.kid,
            issuer=self.provider_id,
            audience=self.audience,
            method="POST",
            path=urlsplit(self.url + path).path,
            body=body,
        )
        return self.session.post(self.url + path, data=body, headers=headers, timeout=self.timeout)


class OrchestratorKeys:
    """The orchestrator's public keys from its JWKS URL, cached.

    The cache is refreshed after `cache_ttl` seconds, and at once when a token names a kid the cache
    does not know (at most once per `refetch_interval`), so the orchestrator can publish a new key and
    start signing with it without any downtime; a key it stops publishing is dropped at the next refresh.
    """

    def __init__(self, *, jwks_url: str, timeout: float, cache_ttl: float, refetch_interval: float):
        self.jwks_url = jwks_url
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self.refetch_interval = refetch_interval
        self._keys = KeySet()
        self._fetched_at: float | None = None
        self._attempted_at = float("-inf")
        self._lock = threading.Lock()

    def get(self, kid: str) -> Ed25519PublicKey | None:
        with self._lock:
            now = time.monotonic()
            if self._fetched_at is None or now - self._fetched_at >= self.cache_ttl:
                self._refresh(now)
            key = self._keys.get(kid)
            if key is None and now - self._attempted_at >= self.refetch_interval:
                self._refresh(now)
                key = self._keys.get(kid)
            return key

    def _refresh(self, now: float) -> None:
        if now - self._attempted_at < self.refetch_interval:
            return
        self._attempted_at = now
        try:
            response = requests.get(self.jwks_url, timeout=self.timeout)
            response.raise_for_status()
            keys = KeySet(response.json())
        except (requests.RequestException, ValueError) as exc:
            log.warning("cannot fetch orchestrator keys from %s: %s", self.jwks_url, exc)
            return
        if keys.kids != self._keys.kids:
            log.info("orchestrator keys now %s", ", ".join(keys.kids) or "(none)")
        self._keys = keys
        self._fetched_at = now


class RequestVerifier:
    """Checks the bearer token of a request coming from the orchestrator, made for this method and path."""

    def __init__(self, *, keys: OrchestratorKeys, provider_id: str, issuer: str, replay_guard: ReplayGuard):
        self.keys = keys
        self.provider_id = provider_id
        self.issuer = issuer
        self.replay_guard = replay_guard

    def verify(self, authorization: str | None, body: bytes, *, method: str, path: str) -> dict:
        token = bearer_token(authorization)
        if token is None:
            raise TokenError("missing_token", "an Authorization: Bearer token is required")
        return verify_token(
            token,
            key_lookup=self.keys.get,
            audience=self.provider_id,
            issuer=self.issuer,
            replay_guard=self.replay_guard,
            method=method,
            path=path,
            body=body,
        )
