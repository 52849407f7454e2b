"""Ed25519 signing keys and their JWK / JWKS form.

Each side of the protocol signs with one private key at a time and publishes every public key that
may still verify (old and new together during a rotation). Keys are told apart by their `kid`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def public_jwk(key: Ed25519PrivateKey | Ed25519PublicKey, kid: str) -> dict:
    """The public half of `key` as an OKP JWK, usable for EdDSA signatures only."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)
    x = b64url_encode(raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def jwks(*entries: dict) -> dict:
    return {"keys": list(entries)}


def public_key_from_jwk(jwk: Mapping) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("not an Ed25519 OKP key")
    if jwk.get("alg", ALGORITHM) != ALGORITHM or jwk.get("use", "sig") != "sig":
        raise ValueError("key is not meant for EdDSA signatures")
    x = jwk.get("x")
    if not isinstance(x, str):
        raise ValueError("key has no 'x'")
    raw = b64url_decode(x)
    if len(raw) != 32:
        raise ValueError("Ed25519 public key must be 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


class KeySet:
    """The public keys of one party, by kid, built from its JWKS document.

    Entries that are not Ed25519 signing keys, or have no kid, are skipped: a party may publish
    other keys, and one unusable entry must not hide the others.
    """

    def __init__(self, document: Mapping | None = None):
        self._keys: dict[str, Ed25519PublicKey] = {}
        if document is None:
            return
        entries = document.get("keys") if isinstance(document, Mapping) else None
        if not isinstance(entries, list):
            raise ValueError("a JWKS document is an object with a 'keys' list")
        for entry in entries:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("kid"), str):
                continue
            try:
                self._keys[entry["kid"]] = public_key_from_jwk(entry)
            except ValueError:
                continue

    def get(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)
