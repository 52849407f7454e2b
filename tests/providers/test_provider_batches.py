"""One bad item in a provider's batch is refused on its own; the other items of the batch are applied."""

import json

import pytest
from django.test import override_settings
from django.utils import timezone

from accounting.models import ComponentUsage
from marketplace import services as marketplace
from protocol.http import signed_headers
from tests.factories import make_provider

USAGE_URL = "/api/provider/usage/"
UPDATES_URL = "/api/provider/orders/updates/"


def _post(client, keys, path, payload):
    body = json.dumps(payload).encode()  # ASCII, with "\u0000" and lone surrogates escaped as a sender may
    headers = signed_headers(
        private_key=keys.key, kid=keys.kid, issuer=keys.slug, audience="federation", method="POST", path=path, body=body
    )
    return client.post(path, data=body, content_type="application/json", HTTP_AUTHORIZATION=headers["Authorization"])


def _order(offering, manager, project):
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        order = marketplace.order_create(
            actor=manager,
            project=project,
            offering=offering,
            plan=offering.plans.first(),
            attributes={"name": "alloc"},
            limits={"cpu": 10},
        )
    order.refresh_from_db()
    return order


@pytest.fixture
def order(site, ordering_manager):
    return _order(site.offering, ordering_manager.user, ordering_manager.project)


def _record(order, cursor, **overrides):
    record = {
        "cursor": cursor,
        "resource_uuid": str(order.resource.uuid),
        "backend_id": "acct-1",
        "component_type": "cpu",
        "billing_month": timezone.localdate().replace(day=1).isoformat(),
        "amount": "7.5",
        "username": "",
    }
    return {**record, **overrides}


BAD_RECORDS = {
    "year_zero": ({"billing_month": "0000-01-01"}, "billing_month"),
    "component_type_too_long": ({"component_type": "c" * 61}, "component_type"),
    "amount_too_large": ({"amount": "1e30"}, "amount"),
    "nul_in_username": ({"username": "al\u0000ice"}, "username"),
    "lone_surrogate_in_username": ({"username": "al\ud800ice"}, "username"),
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_a_bad_usage_record_is_refused_and_the_others_are_stored(client, site, order, case):
    overrides, field = BAD_RECORDS[case]
    records = [_record(order, 1), _record(order, 2, **overrides), _record(order, 3, username="alice", amount="2")]
    answer = _post(client, site.keys, USAGE_URL, {"records": records})
    assert answer.status_code == 200, answer.content
    results = answer.json()["results"]
    assert [(r["cursor"], r["accepted"], r["retry"]) for r in results] == [(1, True, False), (2, False, False),
                                                                           (3, True, False)]  # fmt: skip
    assert results[1]["field"] == f"records[1].{field}" and field in results[1]["detail"]
    assert answer.json()["imported"] == 2
    stored = dict(ComponentUsage.objects.filter(resource=order.resource).values_list("username", "usage"))
    assert {name: float(usage) for name, usage in stored.items()} == {"": 7.5, "alice": 2.0}


def test_usage_of_a_resource_of_another_provider_is_refused_alone(client, site, order):
    other_keys = make_provider("site-b").keys
    answer = _post(client, other_keys, USAGE_URL, {"records": [_record(order, 1)]})
    assert answer.status_code == 200
    assert answer.json()["results"] == [
        {"cursor": 1, "accepted": False, "detail": "No such resource at this provider.", "retry": False}
    ]
    assert not ComponentUsage.objects.exists()


def test_an_entry_that_is_no_record_at_all_is_refused_alone(client, site, order):
    answer = _post(client, site.keys, USAGE_URL, {"records": ["nonsense", {"cursor": 9}, _record(order, 3)]})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["cursor"], r["accepted"], r["field"]) for r in results[:2]] == [
        (None, False, "records[0]"),
        (9, False, "records[1].billing_month"),
    ]
    assert results[2]["accepted"] is True
    assert ComponentUsage.objects.get().usage == 7.5


def test_usage_with_many_decimal_places_is_rounded_to_what_is_stored(client, site, order):
    answer = _post(client, site.keys, USAGE_URL, {"records": [_record(order, 1, amount="0.30000000000000004")]})
    assert answer.json()["results"][0]["accepted"] is True
    assert str(ComponentUsage.objects.get().usage) == "0.3000000000"


def test_a_nul_in_an_error_message_is_refused_and_the_other_updates_are_applied(client, site, ordering_manager):
    first, second, third = (_order(site.offering, ordering_manager.user, ordering_manager.project) for _ in range(3))
    updates = [
        {"order_uuid": str(first.uuid), "state": "done", "backend_id": "acct-first"},
        {"order_uuid": str(second.uuid), "state": "erred", "error_message": "disk\u0000full"},
        {"order_uuid": str(third.uuid), "state": "erred", "error_message": "quota exceeded"},
        {"order_uuid": str(third.uuid), "state": "done", "backend_id": "b" * 256},
    ]
    answer = _post(client, site.keys, UPDATES_URL, {"updates": updates})
    assert answer.status_code == 200, answer.content
    results = answer.json()["results"]
    assert [(r["order_uuid"], r["accepted"], r["retry"]) for r in results] == [
        (str(first.uuid), True, False),
        (str(second.uuid), False, False),
        (str(third.uuid), True, False),
        (str(third.uuid), False, False),
    ]
    assert results[1]["field"] == "updates[1].error_message" and "NUL" in results[1]["detail"]
    assert results[3]["field"] == "updates[3].backend_id"
    for order in (first, second, third):
        order.refresh_from_db()
    assert (first.state, second.state, third.state) == ("done", "executing", "erred")
    assert third.error_message == "quota exceeded"


def test_a_refusal_names_its_item_only_by_an_id_that_can_be_sent_back(client, site, order):
    updates = [
        {"order_uuid": "\ud800", "state": "done"},
        {"order_uuid": "x\u0000", "state": "done"},
        {"order_uuid": "y" * 5000, "state": "done"},
        {"order_uuid": 7, "state": "done"},
    ]
    answer = _post(client, site.keys, UPDATES_URL, {"updates": updates})
    assert answer.status_code == 200, answer.content
    assert [(r["order_uuid"], r["accepted"]) for r in answer.json()["results"]] == [(None, False)] * 4
