"""Every provider endpoint refuses a request whose token is not right, with 401 and a reason."""

import time

import requests

from protocol.http import encode_body
from protocol.keys import generate_private_key
from tests.site_agent.harness import FakeOrchestrator, RunningAgent, batch, order_item


def _refused(response, reason):
    assert response.status_code == 401, response.text
    assert response.json()["reason"] == reason
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_bad_tokens_are_refused(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        item = order_item()
        body = encode_body(batch(item))

        def post(headers, data=body):
            return requests.post(agent.url + "/orders/batch", data=data, headers=headers, timeout=5)

        _refused(post({}), "missing_token")
        _refused(post(orch.token(body, private_key=generate_private_key())), "bad_signature")
        _refused(post(orch.token(body, audience="another-site")), "bad_audience")
        _refused(post(orch.token(body, issuer="someone-else", subject="someone-else")), "bad_issuer")
        _refused(post(orch.token(body, now=int(time.time()) - 200, lifetime=60)), "expired")
        _refused(post(orch.token(body, kid="never-published")), "unknown_key")
        _refused(post(orch.token(body, lifetime=3600)), "lifetime_too_long")
        _refused(post(orch.token(b'{"other": "body"}')), "body_mismatch")
        _refused(post(orch.token(b"")), "body_mismatch")  # a body, and a token not bound to any
        _refused(post({"Authorization": "Bearer not.a.jwt"}), "malformed")
        _refused(post(orch.token(body, subject="someone-else")), "bad_subject")
        _refused(post(orch.token(body, path="/verify")), "request_mismatch")  # made for another endpoint
        _refused(post(orch.token(body, method="PUT")), "request_mismatch")

        headers = orch.token(body)
        assert post(headers).status_code == 202
        _refused(post(headers), "replayed")
        assert agent.store.order_get(item["order_uuid"]) is not None


def test_a_token_made_for_one_get_fails_at_another(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        for_usage = orch.token(method="GET", path="/usage")
        _refused(requests.get(agent.url + "/manifest", headers=for_usage, timeout=5), "request_mismatch")
        assert requests.get(agent.url + "/usage?after=0", headers=orch.token(method="GET", path="/usage"),
                            timeout=5).status_code == 200  # fmt: skip


def test_get_endpoints_need_a_token_but_public_pages_do_not(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        for path in ("/manifest", "/usage", "/orders/6d1a4e8c-0000-4000-8000-000000000001"):
            _refused(requests.get(agent.url + path, timeout=5), "missing_token")
        assert requests.get(agent.url + "/.well-known/jwks.json", timeout=5).json() == agent.jwks()
        assert requests.get(agent.url + "/healthz", timeout=5).json()["status"] == "ok"


def test_orchestrator_key_rotation_without_downtime(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        old_kid, old_key = orch.kid, orch.key
        assert orch.get(agent.url, "/manifest", kid=old_kid).status_code == 200

        # The orchestrator publishes a second key and signs with it at once: the unknown kid makes
        # the agent fetch the key set again, and both keys work.
        new_key = generate_private_key()
        orch.published["orch-2"] = new_key
        assert orch.get(agent.url, "/manifest", kid="orch-2", key=new_key).status_code == 200
        assert orch.get(agent.url, "/manifest", kid=old_kid, key=old_key).status_code == 200

        # The old key is withdrawn; once the agent's cache is refreshed it is refused.
        del orch.published[old_kid]
        agent.verifier.keys.cache_ttl = 0
        _refused(orch.get(agent.url, "/manifest", kid=old_kid, key=old_key), "unknown_key")
        assert orch.get(agent.url, "/manifest", kid="orch-2", key=new_key).status_code == 200


def test_unknown_kids_do_not_hammer_the_orchestrator(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch, orchestrator={"jwks_refetch_interval": 60}) as agent:
        assert orch.get(agent.url, "/manifest").status_code == 200
        fetches = orch.jwks_fetches
        for _ in range(5):
            _refused(requests.get(agent.url + "/manifest", headers=orch.token(kid="bogus"), timeout=5), "unknown_key")
        assert orch.jwks_fetches == fetches
