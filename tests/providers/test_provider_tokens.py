"""Provider tokens: made for one request, replay-guarded per issuer, and no way to probe provider ids."""

import time

import jwt
import pytest

from protocol.http import encode_body
from protocol.keys import generate_private_key
from providers.models import Provider, SeenToken
from tests.factories import make_provider

UPDATES_URL = "/api/provider/orders/updates/"
USAGE_URL = "/api/provider/usage/"
BODY = encode_body({"updates": []})


def _token(keys, *, issuer=None, jti=None, path=UPDATES_URL, method="POST", key=None, kid=None, body=BODY):
    from protocol.tokens import body_hash

    issuer = issuer or keys.slug
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": issuer,
        "aud": "federation",
        "iat": now,
        "exp": now + 60,
        "jti": jti or f"jti-{time.monotonic_ns()}",
        "htm": method,
        "htp": path,
        "bsh": body_hash(body),
    }
    return jwt.encode(claims, key or keys.key, algorithm="EdDSA", headers={"kid": kid or keys.kid})


def _post(client, token, path=UPDATES_URL, body=BODY):
    return client.post(path, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_unknown_issuer_unknown_key_and_disabled_provider_get_the_same_answer(client, site):
    disabled = make_provider("site-off")
    Provider.objects.filter(id=disabled.provider.id).update(status=Provider.Status.DISABLED)
    answers = [
        _post(client, _token(site.keys, issuer="no-such-site")),  # unknown issuer
        _post(client, _token(site.keys, kid="no-such-kid")),  # known issuer, unknown key
        _post(client, _token(site.keys, key=generate_private_key(), kid="no-such-kid")),
        _post(client, _token(disabled.keys)),  # a disabled provider's valid token
    ]
    assert {answer.status_code for answer in answers} == {401}
    assert len({answer.content for answer in answers}) == 1
    assert answers[0].json()["reason"] == "unknown_key"
    assert "site-off" not in answers[0].content.decode() and "no-such-site" not in answers[0].content.decode()
    assert _post(client, _token(site.keys)).status_code == 200  # the same token shape from a live provider passes


def test_a_token_made_for_usage_fails_at_order_updates_and_the_reverse(client, site):
    usage_body = encode_body({"records": []})
    for_usage = _token(site.keys, path=USAGE_URL, body=usage_body)
    refused = _post(client, for_usage, path=UPDATES_URL, body=usage_body)
    assert refused.status_code == 401 and refused.json()["reason"] == "request_mismatch"
    for_updates = _token(site.keys)
    refused = _post(client, for_updates, path=USAGE_URL)
    assert refused.status_code == 401 and refused.json()["reason"] == "request_mismatch"
    for_usage_again = _token(site.keys, path=USAGE_URL, body=usage_body)
    assert _post(client, for_usage_again, path=USAGE_URL, body=usage_body).status_code == 200


def test_the_replay_guard_is_per_issuer_and_keeps_the_whole_jti(client, site):
    other_keys = make_provider("site-b").keys
    long_jti = "j" * 200
    assert _post(client, _token(site.keys, jti=long_jti)).status_code == 200
    assert _post(client, _token(other_keys, jti=long_jti)).status_code == 200  # same id, another issuer
    assert _post(client, _token(site.keys, jti=long_jti[:-1] + "k")).status_code == 200  # differs only at the end
    replayed = _post(client, _token(site.keys, jti=long_jti))
    assert replayed.status_code == 401 and replayed.json()["reason"] == "replayed"
    assert set(SeenToken.objects.values_list("issuer", "jti")) == {
        ("site-a", long_jti),
        ("site-b", long_jti),
        ("site-a", long_jti[:-1] + "k"),
    }
    too_long = _post(client, _token(site.keys, jti="j" * 256))
    assert too_long.status_code == 401 and too_long.json()["reason"] == "malformed"


@pytest.mark.parametrize("claim", ["htm", "htp"])
def test_a_token_without_its_request_binding_is_refused(client, site, claim):
    claims = jwt.decode(_token(site.keys), options={"verify_signature": False})
    del claims[claim]
    token = jwt.encode(claims, site.keys.key, algorithm="EdDSA", headers={"kid": site.keys.kid})
    answer = _post(client, token)
    assert answer.status_code == 401 and answer.json()["reason"] == "malformed"
