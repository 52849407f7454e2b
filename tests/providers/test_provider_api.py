"""The provider-facing API: only a provider's own valid, fresh, unreplayed token gets in."""

import time

import pytest
from django.test import override_settings

from marketplace import services as marketplace
from protocol.http import encode_body, signed_headers
from protocol.keys import generate_private_key
from protocol.tokens import issue_token
from tests.factories import make_provider

URL = "/api/provider/orders/updates/"


def _executing_order(offering, manager, project):
    plan = offering.plans.first()
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        order = marketplace.order_create(
            actor=manager,
            project=project,
            offering=offering,
            plan=plan,
            attributes={"name": "alloc"},
            limits={"cpu": 10},
        )
    order.refresh_from_db()
    return order


def _post(client, payload, headers):
    return client.post(
        URL, data=encode_body(payload), content_type="application/json", HTTP_AUTHORIZATION=headers["Authorization"]
    )


def _headers(keys, body, **overrides):
    issuer = overrides.pop("issuer", keys.slug)
    token = issue_token(
        private_key=overrides.pop("private_key", keys.key),
        kid=overrides.pop("kid", keys.kid),
        issuer=issuer,
        audience=overrides.pop("audience", "federation"),
        subject=overrides.pop("subject", issuer),
        method=overrides.pop("method", "POST"),
        path=overrides.pop("path", URL),
        body=body,
        **overrides,
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def order(site, ordering_manager, django_capture_on_commit_callbacks):
    return _executing_order(site.offering, ordering_manager.user, ordering_manager.project)


def _done(order):
    return {"updates": [{"order_uuid": str(order.uuid), "state": "done", "backend_id": "acct-1"}]}


def test_valid_update_is_applied(client, site, order):
    assert order.state == "executing"
    body = _done(order)
    answer = _post(
        client,
        body,
        signed_headers(
            private_key=site.keys.key,
            kid=site.keys.kid,
            issuer=site.keys.slug,
            audience="federation",
            method="POST",
            path=URL,
            body=encode_body(body),
        ),
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["results"][0]["accepted"] is True
    order.refresh_from_db()
    order.resource.refresh_from_db()
    assert order.state == "done" and order.resource.state == "OK" and order.resource.backend_id == "acct-1"


@pytest.mark.parametrize(
    "case, reason",
    [
        ("forged", "bad_signature"),
        ("wrong_audience", "bad_audience"),
        ("expired", "expired"),
        ("unknown_key", "unknown_key"),
        ("other_body", "body_mismatch"),
        ("made_for_usage", "request_mismatch"),
        ("made_for_a_get", "request_mismatch"),
        ("subject_is_not_issuer", "bad_subject"),
    ],
)
def test_bad_tokens_are_refused_and_change_nothing(client, site, order, case, reason):
    body = encode_body(_done(order))
    if case == "made_for_usage":
        headers = _headers(site.keys, body, path="/api/provider/usage/")
    elif case == "made_for_a_get":
        headers = _headers(site.keys, body, method="GET")
    elif case == "subject_is_not_issuer":
        headers = _headers(site.keys, body, subject="site-b")
    elif case == "forged":
        headers = _headers(site.keys, body, private_key=generate_private_key())
    elif case == "wrong_audience":
        headers = _headers(site.keys, body, audience="someone-else")
    elif case == "expired":
        headers = _headers(site.keys, body, now=int(time.time()) - 600, lifetime=60)
    elif case == "unknown_key":
        headers = _headers(site.keys, body, kid="not-registered")
    else:
        headers = _headers(site.keys, encode_body({"updates": []}))
    answer = client.post(URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=headers["Authorization"])
    assert answer.status_code == 401
    assert answer.json()["reason"] == reason
    order.refresh_from_db()
    assert order.state == "executing"


def test_replayed_token_is_refused(client, site, order):
    body = encode_body(_done(order))
    headers = _headers(site.keys, body)
    first = client.post(URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=headers["Authorization"])
    assert first.status_code == 200
    again = client.post(URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=headers["Authorization"])
    assert again.status_code == 401 and again.json()["reason"] == "replayed"


def test_missing_token_is_401(client, site, order):
    answer = client.post(URL, data=encode_body(_done(order)), content_type="application/json")
    assert answer.status_code == 401


def test_a_provider_cannot_update_another_providers_orders(client, site, order):
    other_keys = make_provider("site-b").keys
    body = encode_body(_done(order))
    answer = client.post(
        URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=_headers(other_keys, body)["Authorization"]
    )
    assert answer.status_code == 200
    assert answer.json()["results"] == [
        {"order_uuid": str(order.uuid), "accepted": False, "detail": "No such order at this provider.", "retry": False}
    ]
    order.refresh_from_db()
    assert order.state == "executing"


def test_stale_update_after_done_changes_nothing(client, site, order):
    body = encode_body(_done(order))
    client.post(
        URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=_headers(site.keys, body)["Authorization"]
    )
    stale = encode_body({"updates": [{"order_uuid": str(order.uuid), "state": "erred", "error_message": "late"}]})
    answer = client.post(
        URL, data=stale, content_type="application/json", HTTP_AUTHORIZATION=_headers(site.keys, stale)["Authorization"]
    )
    result = answer.json()["results"][0]
    assert result["accepted"] is False and "done" in result["detail"]
    order.refresh_from_db()
    assert order.state == "done" and order.error_message == ""


def test_repeated_done_is_acknowledged_without_change(client, site, order):
    stamps = []
    for _ in range(2):
        body = encode_body(_done(order))
        answer = client.post(
            URL,
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=_headers(site.keys, body)["Authorization"],
        )
        assert answer.json()["results"][0]["accepted"] is True
        order.refresh_from_db()
        stamps.append((order.state, order.modified))
    assert stamps[0] == stamps[1] and stamps[0][0] == "done"


def test_malformed_update_is_refused_naming_the_field(client, site, order):
    body = encode_body({"updates": [{"order_uuid": "nope", "state": "done"}]})
    answer = client.post(
        URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=_headers(site.keys, body)["Authorization"]
    )
    assert answer.status_code == 200
    [result] = answer.json()["results"]
    assert result["accepted"] is False and result["retry"] is False
    assert result["field"] == "updates[0].order_uuid" and result["order_uuid"] == "nope"


def test_a_body_that_is_no_list_of_updates_is_400(client, site, order):
    for payload in ({"updates": "all"}, [1, 2], {}):
        body = encode_body(payload)
        answer = client.post(
            URL,
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=_headers(site.keys, body)["Authorization"],
        )
        assert answer.status_code == 400, payload
        assert answer.json()["field"] in ("updates", "body")


def test_jwks_is_published(client, db):
    answer = client.get("/.well-known/jwks.json")
    assert answer.status_code == 200
    keys = answer.json()["keys"]
    assert keys and keys[0]["kty"] == "OKP" and "d" not in keys[0]


def test_a_batch_applies_what_fits_refuses_the_rest_and_records_history(client, site, ordering_manager):
    from marketplace.models import StateChange

    first, second, third = (
        _executing_order(site.offering, ordering_manager.user, ordering_manager.project) for _ in range(3)
    )
    marketplace.order_set_state_done(order=second, actor=None, backend_id="earlier")
    updates = {
        "updates": [
            {"order_uuid": str(first.uuid), "state": "done", "backend_id": "acct-first"},
            {"order_uuid": str(second.uuid), "state": "erred", "error_message": "late"},  # already done
            {"order_uuid": str(third.uuid), "state": "erred", "error_message": "quota exceeded at the site"},
            {"order_uuid": str(first.uuid), "state": "erred", "error_message": "too late"},  # same order again
        ]
    }
    body = encode_body(updates)
    answer = client.post(URL, data=body, content_type="application/json",
                         HTTP_AUTHORIZATION=_headers(site.keys, body)["Authorization"])  # fmt: skip
    assert [r["accepted"] for r in answer.json()["results"]] == [True, False, True, False]
    for order in (first, second, third):
        order.refresh_from_db()
        order.resource.refresh_from_db()
    assert (first.state, first.resource.state, first.resource.backend_id) == ("done", "OK", "acct-first")
    assert (second.state, second.error_message, second.resource.backend_id) == ("done", "", "earlier")
    assert (third.state, third.error_message, third.resource.state) == ("erred", "quota exceeded at the site", "Erred")
    history = StateChange.objects.filter(order=first).values_list("from_state", "to_state")
    assert ("executing", "done") in list(history) and ("done", "erred") not in list(history)
    assert StateChange.objects.filter(resource=third.resource, to_state="Erred").count() == 1
    assert first.completed_at is not None and first.modified >= first.created
