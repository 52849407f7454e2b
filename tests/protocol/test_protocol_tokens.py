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


def _issue(*, now_offset: int | None = None, **overrides):
    """A token; `now_offset` sets its issue time relative to the moment of issue (not of collection)."""
    if now_offset is not None:
        overrides["now"] = int(time.time()) + now_offset
    kwargs = {
        "private_key": KEY,
        "kid": "k1",
        "issuer": "federation",
        "audience": "demo",
        "subject": "federation",
        "method": "POST",
        "path": "/orders/batch",
    }
    kwargs.update(overrides)
    return issue_token(**kwargs)


def _verify(token, **overrides):
    kwargs = {
        "key_lookup": KEYS.get,
        "audience": "demo",
        "replay_guard": MemoryReplayGuard(),
        "method": "POST",
        "path": "/orders/batch",
    }
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
    assert (claims["htm"], claims["htp"]) == ("POST", "/orders/batch")
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
        ({"now_offset": -300, "lifetime": 60}, {}, "expired"),
        ({"now_offset": 600}, {}, "not_yet_valid"),
        ({"kid": "k9"}, {}, "unknown_key"),
        ({"lifetime": 301}, {}, "lifetime_too_long"),
        ({"lifetime": 30}, {"max_lifetime": 20}, "lifetime_too_long"),
        ({"subject": "someone-else"}, {}, "bad_subject"),
        ({"issuer": "intruder"}, {}, "bad_subject"),  # sub stays "federation"
        ({"path": "/usage"}, {}, "request_mismatch"),
        ({"method": "GET"}, {}, "request_mismatch"),
        ({}, {"path": "/orders/batch/"}, "request_mismatch"),
        ({}, {"method": "PUT"}, "request_mismatch"),
    ],
)
def test_each_failure_has_its_reason(token_kwargs, verify_kwargs, reason):
    assert _reason(_issue(**token_kwargs), **verify_kwargs) == reason


def test_a_token_made_for_one_endpoint_fails_at_another():
    usage = _issue(method="POST", path="/api/provider/usage/")
    assert _reason(usage, method="POST", path="/api/provider/orders/updates/") == "request_mismatch"
    assert _verify(usage, method="post", path="/api/provider/usage/")["htp"] == "/api/provider/usage/"


def test_a_token_without_method_and_path_is_refused():
    now = int(time.time())
    claims = {"iss": "federation", "aud": "demo", "sub": "federation", "iat": now, "exp": now + 60, "jti": "j1"}
    unbound = jwt.encode(claims, KEY, algorithm="EdDSA", headers={"kid": "k1"})
    assert _reason(unbound) == "malformed"
    assert _reason(jwt.encode({**claims, "htm": "POST"}, KEY, algorithm="EdDSA", headers={"kid": "k1"})) == "malformed"


def test_replay_guard_is_per_issuer_and_keeps_the_whole_jti():
    now = int(time.time())
    claims = {"aud": "demo", "iat": now, "exp": now + 60, "htm": "POST", "htp": "/orders/batch"}

    def token(issuer, jti):
        return jwt.encode({**claims, "iss": issuer, "sub": issuer, "jti": jti}, KEY, algorithm="EdDSA",
                          headers={"kid": "k1"})  # fmt: skip

    guard = MemoryReplayGuard()
    long_jti = "x" * 100
    assert _verify(token("site-a", long_jti), replay_guard=guard)
    assert _verify(token("site-b", long_jti), replay_guard=guard)  # the same id from another issuer
    assert _verify(token("site-a", long_jti[:-1] + "y"), replay_guard=guard)  # differs only past 64 characters
    assert _reason(token("site-a", long_jti), replay_guard=guard) == "replayed"
    assert _reason(token("site-a", "z" * 256), replay_guard=guard) == "malformed"
    assert _reason(token("", "j"), replay_guard=guard) == "malformed"


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
    claims = {"iss": "f", "aud": "demo", "sub": "f", "iat": int(time.time()), "exp": int(time.time()) + 60, "jti": "x",
              "htm": "POST", "htp": "/orders/batch"}  # fmt: skip
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
    assert guard.remember("f", "a", now - 1)
    assert guard.remember("f", "a", now + 60)  # the old entry had expired
    assert not guard.remember("f", "a", now + 60)
    guard.remember("f", "b", now + 60)
    assert len(guard) == 2

    results = []
    threads = [threading.Thread(target=lambda: results.append(guard.remember("f", "c", now + 60))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


def test_signed_headers_and_bearer():
    body = encode_body({"x": "ü"})
    sign = {"private_key": KEY, "kid": "k1", "issuer": "demo", "audience": "federation"}
    headers = signed_headers(**sign, method="POST", path="/api/provider/usage/", body=body)
    assert headers["Content-Type"] == "application/json"
    token = bearer_token(headers["Authorization"])
    claims = verify_token(
        token,
        key_lookup=KEYS.get,
        audience="federation",
        replay_guard=MemoryReplayGuard(),
        method="POST",
        path="/api/provider/usage/",
        body=body,
    )
    assert claims["iss"] == claims["sub"] == "demo"
    get_headers = signed_headers(**sign, method="GET", path="/manifest", body=b"")
    assert "bsh" not in unverified_claims(bearer_token(get_headers["Authorization"]))
    assert bearer_token(None) is None
    assert bearer_token("Token abc") is None
    assert bearer_token("Bearer ") is None
