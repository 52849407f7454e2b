"""Deliveries are signed the Standard Webhooks way: checked by hand, by the receiver docs/webhooks.md
shows, and by the independent `standardwebhooks` package."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks

from webhooks.signing import secret_key, secret_new, signature, signed_headers

from .receiver import documented_receiver

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
BODY = json.dumps({"type": "marketplace_order_completed", "data": {"uuid": "3f1c"}}, separators=(",", ":")).encode()


def test_secrets_are_whsec_and_32_random_bytes():
    secrets = {secret_new() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith("whsec_") and len(secret_key(secret)) == 32


def test_the_signature_step_by_step():
    """The algorithm docs/webhooks.md states: HMAC-SHA256 over "{id}.{timestamp}.{body}" with the decoded key."""
    key = bytes(range(32))
    expected = base64.b64encode(hmac.new(key, b"msg-1.1700000000." + BODY, hashlib.sha256).digest()).decode()
    assert signature(SECRET, msg_id="msg-1", timestamp=1700000000, body=BODY) == f"v1,{expected}"


def test_the_headers_of_an_attempt():
    before = int(time.time())
    headers = signed_headers(SECRET, msg_id="3f1c", body=BODY)
    assert headers["webhook-id"] == "3f1c" and headers["Content-Type"] == "application/json"
    assert before <= int(headers["webhook-timestamp"]) <= time.time()
    stamp = int(headers["webhook-timestamp"])
    assert headers["webhook-signature"] == signature(SECRET, msg_id="3f1c", timestamp=stamp, body=BODY)


def test_the_standardwebhooks_package_agrees():
    headers = signed_headers(SECRET, msg_id="3f1c", body=BODY)
    verifier = standardwebhooks.Webhook(SECRET)
    assert verifier.verify(BODY, headers) == json.loads(BODY)
    stamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)
    assert verifier.sign("3f1c", stamp, BODY.decode()) == headers["webhook-signature"]
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        verifier.verify(BODY.replace(b"3f1c", b"3f1d"), headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret_new()).verify(BODY, headers)


def test_the_documented_receiver_verifies_and_deduplicates():
    receive = documented_receiver()
    headers = signed_headers(SECRET, msg_id="3f1c", body=BODY)
    assert receive(SECRET, headers, BODY) == json.loads(BODY)
    assert receive(SECRET, headers, BODY) is None  # the same webhook-id again: a repeat
    with pytest.raises(ValueError, match="bad signature"):
        receive(SECRET, signed_headers(SECRET, msg_id="other", body=BODY), BODY + b" ")
    with pytest.raises(ValueError, match="bad signature"):
        receive(secret_new(), signed_headers(SECRET, msg_id="third", body=BODY), BODY)
    stale = signed_headers(SECRET, msg_id="fourth", body=BODY, timestamp=int(time.time()) - 600)
    with pytest.raises(ValueError, match="timestamp"):
        receive(SECRET, stale, BODY)
