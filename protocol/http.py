"""Request helpers both sides use: encode a body once, sign those exact bytes, read the bearer."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.tokens import issue_token


def encode_body(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signed_headers(
    *,
    private_key: Ed25519PrivateKey,
    kid: str,
    issuer: str,
    audience: str,
    method: str,
    path: str,
    body: bytes,
    lifetime: int = 120,
) -> dict:
    """Headers for one request from `issuer` to `audience`; the token is bound to `method`, `path` and `body`.

    `path` is the URL path as the receiver sees it, without the query string. Pass b"" for a
    request without a body (a GET).
    """
    token = issue_token(
        private_key=private_key,
        kid=kid,
        issuer=issuer,
        audience=audience,
        subject=issuer,
        method=method,
        path=path,
        lifetime=lifetime,
        body=body if body else None,
    )
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
