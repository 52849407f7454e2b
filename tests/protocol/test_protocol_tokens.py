import threading
import time

import jwt
import pytest

from protocol.http import bearer_token, encode_body, signed_headers
from protocol.keys import (
    KeySet,
    generate_private_key,
    jwks,
    load_private_key,
    private_key_to_pem,
    public_jwk,
)
from protocol.tokens import MemoryReplayGuard, TokenError, body_hash, issue_token, unverified_claims, verify_token

KEY = generate_private_key()
KEYS = KeySet(jwks(public_jwk(KEY, "k1")))


def _issue(**overrides):
    kwargs = {
        "private_key": KEY,
        "kid": "k1",
        "issuer": "federation",
        "audience": "demo",
        "subject": "federation",
    }
    kwargs.update(overrides)
    return issue_token(**kwargs)


def _verify(token, **overrides):
    kwargs = {"key_lookup": KEYS.get, "audience": "demo", "replay_guard": MemoryReplayGuard()}
    kwargs.update(overrides)
    return verify_token(token, **kwargs)


def _reason(token, **overrides):
    with pytest.raises(TokenError) as caught:
        _verify(token, **overrides)
    return caught.value.reason


def test_issued_token_verifies_with_all_claims():
    claims = _verify(_issue(), issuer="federation")
    assert claims["iss"] == claims["sub"] == "federation"
    assert claims["aud"] == "demo"
    assert claims["exp"] - claims["iat"] == 120
    assert len(claims["jti"]) == 32
    assert "bsh" not in claims
    assert jwt.get_unverified_header(_issue())["kid"] == "k1"
    assert jwt.get_unverified_header(_issue())["alg"] == "EdDSA"


def test_body_binding():
    body = encode_body({"a": 1})
    token = _issue(body=body)
    assert unverified_claims(token)["bsh"] == body_hash(body)
    assert _verify(token, body=body)["bsh"] == body_hash(body)
    assert _reason(token, body=b'{"a":2}') == "body_mismatch"
    assert _reason(_issue(), body=body) == "body_mismatch"  # a body needs a bound token
    assert _verify(_issue(), body=b"")["aud"] == "demo"  # no body, no binding needed


@pytest.mark.parametrize(
    ("token_kwargs", "verify_kwargs", "reason"),
    [
        ({"private_key": generate_private_key()}, {}, "bad_signature"),
        ({"audience": "elsewhere"}, {}, "bad_audience"),
        ({"issuer": "intruder"}, {"issuer": "federation"}, "bad_issuer"),
        ({"now": int(time.time()) - 300, "lifetime": 60}, {}, "expired"),
        ({"now": int(time.time()) + 600}, {}, "not_yet_valid"),
        ({"kid": "k9"}, {}, "unknown_key"),
        ({"lifetime": 301}, {}, "lifetime_too_long"),
        ({"lifetime": 30}, {"max_lifetime": 20}, "lifetime_too_long"),
    ],
)
def test_each_failure_has_its_reason(token_kwargs, verify_kwargs, reason):
    assert _reason(_issue(**token_kwargs), **verify_kwargs) == reason


def test_leeway_accepts_small_clock_skew():
    token = _issue(now=int(time.time()) - 125)  # expired 5 s ago
    assert _verify(token, leeway=10)
    assert _reason(_issue(now=int(time.time()) - 125), leeway=0) == "expired"


def test_replayed_token_is_refused_but_a_failed_one_does_not_use_up_its_jti():
    guard = MemoryReplayGuard()
    token = _issue()
    assert _reason(token, replay_guard=guard, audience="other") == "bad_audience"
    _verify(token, replay_guard=guard)
    assert _reason(token, replay_guard=guard) == "replayed"


def test_only_eddsa_is_accepted():
    claims = {"iss": "f", "aud": "demo", "sub": "f", "iat": int(time.time()), "exp": int(time.time()) + 60, "jti": "x"}
    hs = jwt.encode(claims, "secret-secret-secret-secret-secret", algorithm="HS256", headers={"kid": "k1"})
    assert _reason(hs) == "bad_algorithm"
    header = jwt.utils.base64url_encode(b'{"alg":"none","kid":"k1"}').decode()
    payload = jwt.utils.base64url_encode(encode_body(claims)).decode()
    assert _reason(f"{header}.{payload}.") == "bad_algorithm"


def test_malformed_tokens():
    assert _reason("") == "malformed"
    assert _reason("a.b.c") == "malformed"
    no_kid = jwt.encode({"aud": "demo"}, KEY, algorithm="EdDSA")
    assert _reason(no_kid) == "malformed"
    now = int(time.time())
    missing_jti = jwt.encode(
        {"iss": "f", "aud": "demo", "sub": "f", "iat": now, "exp": now + 60},
        KEY,
        algorithm="EdDSA",
        headers={"kid": "k1"},
    )
    assert _reason(missing_jti) == "malformed"
    with pytest.raises(TokenError):
        unverified_claims("garbage")


def test_key_rotation_two_kids_then_old_one_removed():
    old, new = generate_private_key(), generate_private_key()
    both = KeySet(jwks(public_jwk(old, "old"), public_jwk(new, "new")))
    assert both.kids == ["new", "old"]
    for key, kid in ((old, "old"), (new, "new")):
        assert _verify(_issue(private_key=key, kid=kid), key_lookup=both.get)
    only_new = KeySet(jwks(public_jwk(new, "new")))
    assert _reason(_issue(private_key=old, kid="old"), key_lookup=only_new.get) == "unknown_key"
    assert _verify(_issue(private_key=new, kid="new"), key_lookup=only_new.get)
    # A key published under the wrong kid does not verify the other's tokens.
    swapped = KeySet(jwks(public_jwk(old, "new")))
    assert _reason(_issue(private_key=new, kid="new"), key_lookup=swapped.get) == "bad_signature"


def test_keys_round_trip_and_jwks_skips_unusable_entries():
    key = load_private_key(private_key_to_pem(KEY))
    assert public_jwk(key, "k1") == public_jwk(KEY.public_key(), "k1")
    jwk = public_jwk(KEY, "k1")
    assert {k: jwk[k] for k in ("kty", "crv", "alg", "use", "kid")} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": "k1",
    }
    keys = KeySet(
        {"keys": [{"kty": "RSA", "kid": "r", "n": "x", "e": "AQAB"}, {"kty": "OKP"}, {**jwk, "x": "AA"}, jwk]}
    )
    assert keys.kids == ["k1"]
    assert keys.get("missing") is None
    with pytest.raises(ValueError):
        KeySet({"nokeys": []})
    with pytest.raises(ValueError):
        load_private_key(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_memory_replay_guard_purges_expired_entries_and_is_thread_safe():
    guard = MemoryReplayGuard(purge_every=0)
    now = int(time.time())
    assert guard.remember("a", now - 1)
    assert guard.remember("a", now + 60)  # the old entry had expired
    assert not guard.remember("a", now + 60)
    guard.remember("b", now + 60)
    assert len(guard) == 2

    results = []
    threads = [threading.Thread(target=lambda: results.append(guard.remember("c", now + 60))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


def test_signed_headers_and_bearer():
    body = encode_body({"x": "ü"})
    headers = signed_headers(private_key=KEY, kid="k1", issuer="demo", audience="federation", body=body)
    assert headers["Content-Type"] == "application/json"
    token = bearer_token(headers["Authorization"])
    claims = verify_token(
        token, key_lookup=KEYS.get, audience="federation", replay_guard=MemoryReplayGuard(), body=body
    )
    assert claims["iss"] == claims["sub"] == "demo"
    get_headers = signed_headers(private_key=KEY, kid="k1", issuer="demo", audience="federation", body=b"")
    assert "bsh" not in unverified_claims(bearer_token(get_headers["Authorization"]))
    assert bearer_token(None) is None
    assert bearer_token("Token abc") is None
    assert bearer_token("Bearer ") is None
