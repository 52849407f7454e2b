"""A provider's batch of order updates goes through one explicit StateWriteBatch; usage refreshes current usage."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace import services as marketplace
from marketplace.models import Order, OrderState, Resource, StateChange
from protocol.http import signed_headers

UPDATES_URL = "/api/provider/orders/updates/"
USAGE_URL = "/api/provider/usage/"


def _post(client, keys, path, payload):
    body = json.dumps(payload).encode()
    headers = signed_headers(
        private_key=keys.key, kid=keys.kid, issuer=keys.slug, audience="federation", method="POST", path=path, body=body
    )
    return client.post(path, data=body, content_type="application/json", HTTP_AUTHORIZATION=headers["Authorization"])


def _order(site, ordering_manager) -> Order:
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        order = marketplace.order_create(
            actor=ordering_manager.user,
            project=ordering_manager.project,
            offering=site.offering,
            plan=site.offering.plans.first(),
            attributes={"name": "alloc"},
            limits={"cpu": 10},
        )
    order.refresh_from_db()
    return order


def _order_row_updates(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith(f'UPDATE "{Order._meta.db_table}"'))


def test_two_updates_of_one_order_are_answered_in_turn_and_written_as_one_update(client, site, ordering_manager):
    site.offering.auto_approve = False
    site.offering.save(update_fields=["auto_approve"])
    order = _order(site, ordering_manager)
    assert order.state == OrderState.PENDING_PROVIDER
    updates = [
        {"order_uuid": str(order.uuid), "state": "executing"},
        {"order_uuid": str(order.uuid), "state": "done", "backend_id": "acct-7"},
    ]
    with CaptureQueriesContext(connection) as queries:
        answer = _post(client, site.keys, UPDATES_URL, {"updates": updates})
    assert answer.status_code == 200, answer.content
    assert [(r["accepted"], r["detail"]) for r in answer.json()["results"]] == [(True, ""), (True, "")]
    order.refresh_from_db()
    order.resource.refresh_from_db()
    assert (order.state, order.resource.state, order.resource.backend_id) == ("done", "OK", "acct-7")
    assert order.provider_reviewed_at is not None and order.completed_at is not None
    history = list(StateChange.objects.filter(order=order).order_by("id").values_list("from_state", "to_state"))
    assert history[-2:] == [("pending-provider", "executing"), ("executing", "done")]
    assert _order_row_updates(queries.captured_queries) == 1  # the two transitions collapse into one row write


def test_a_later_update_that_does_not_fit_is_refused_and_the_earlier_one_stands(client, site, ordering_manager):
    order = _order(site, ordering_manager)
    updates = [
        {"order_uuid": str(order.uuid), "state": "erred", "error_message": "quota"},
        {"order_uuid": str(order.uuid), "state": "done", "backend_id": "acct-1"},
        {"order_uuid": str(order.uuid), "state": "erred", "error_message": "quota"},
    ]
    answer = _post(client, site.keys, UPDATES_URL, {"updates": updates})
    results = answer.json()["results"]
    assert [r["accepted"] for r in results] == [True, False, True]
    assert "it is erred" in results[1]["detail"] and results[2]["detail"] == "Already applied."
    order.refresh_from_db()
    assert (order.state, order.error_message, order.resource.backend_id) == ("erred", "quota", "")
    assert StateChange.objects.filter(order=order, to_state="done").count() == 0


@pytest.mark.postgresql
def test_usage_refreshes_the_current_usage_with_the_exact_decimals(client, site, ordering_manager):
    order = _order(site, ordering_manager)
    month = timezone.localdate().replace(day=1).isoformat()
    amount = "123456789012345678.1234567891"  # more digits than a float holds
    record = {"resource_uuid": str(order.resource.uuid), "backend_id": "a", "billing_month": month, "username": ""}
    records = [
        {**record, "cursor": 1, "component_type": "cpu", "amount": amount},
        {**record, "cursor": 2, "component_type": "gpu", "amount": "2.5"},
        {**record, "cursor": 3, "component_type": "cpu", "amount": "1", "username": "alice"},
    ]
    answer = _post(client, site.keys, USAGE_URL, {"records": records})
    assert answer.json()["imported"] == 3
    resource = Resource.objects.get(pk=order.resource_id)
    assert set(resource.current_usages) == {"cpu", "gpu"} and resource.current_usages["gpu"] == 2.5
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT current_usages->>'cpu' FROM {Resource._meta.db_table} WHERE id = %s", [order.resource_id]
        )
        assert Decimal(cursor.fetchone()[0]) == Decimal(amount)
