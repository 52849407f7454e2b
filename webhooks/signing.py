"""Signing deliveries the Standard Webhooks way (https://www.standardwebhooks.com/).

The secret is `whsec_` followed by the base64 of 32 random bytes; those bytes are the HMAC key.
Each attempt is signed afresh: the signed content is `{webhook-id}.{webhook-timestamp}.{body}`, the
signature `v1,` followed by the base64 of its HMAC-SHA256. docs/webhooks.md shows a receiver.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key: the bytes the base64 after `whsec_` stands for."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, *, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers of one attempt: its id, the time of the attempt (unix seconds) and the signature."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id=msg_id, timestamp=timestamp, body=body),
        "Content-Type": "application/json",
    }
