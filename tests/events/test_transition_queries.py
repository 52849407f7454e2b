"""Each order transition runs a pinned number of queries, and its events cost one INSERT.

A transition writes its order (and resource) rows, their history rows and their events; the events
of one transition, or of a provider's whole batch, go in one INSERT. A count that grows (an event
written row by row, a lost select_related) fails here.
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from federation.models import RoleName
from marketplace import services as marketplace
from marketplace.models import Offering, Order, OrderState
from protocol.http import signed_headers
from tests.factories import UserFactory, grant, make_provider

UPDATES_URL = "/api/provider/orders/updates/"
EVENTS = {
    "executing": ["marketplace_order_executing"],
    "done": ["marketplace_order_completed", "marketplace_resource_create_succeeded"],
    "erred": ["marketplace_order_failed", "marketplace_resource_create_failed"],
}
EVENT_INSERT = 'INSERT INTO "events_event"'


@pytest.fixture
def site(db):
    site = make_provider("site-q")
    Offering.objects.filter(id=site.offering.id).update(auto_approve=False)
    site.offering.refresh_from_db()
    return site


@pytest.fixture
def people(site, project, manager):
    admin = UserFactory(username="project-admin")
    grant(admin, project, RoleName.PROJECT_ADMIN)
    provider_owner = UserFactory(username="provider-owner")
    grant(provider_owner, site.provider.customer, RoleName.CUSTOMER_OWNER)
    return {"admin": admin, "manager": manager, "provider_owner": provider_owner}


@pytest.fixture
def place(site, project, people):
    def place() -> Order:
        return marketplace.order_create(
            actor=people["admin"],
            project=project,
            offering=site.offering,
            plan=site.offering.plans.get(),
            attributes={"name": "Allocation"},
            limits={"cpu": 10},
        )

    return place


class Counted:
    def __init__(self):
        self.context = CaptureQueriesContext(connection)

    def __enter__(self):
        self.context.__enter__()
        return self

    def __exit__(self, *exc):
        self.context.__exit__(*exc)

    @property
    def queries(self) -> int:
        return len(self.context.captured_queries)

    @property
    def event_inserts(self) -> int:
        return sum(q["sql"].startswith(EVENT_INSERT) for q in self.context.captured_queries)


def _post_updates(client, site, updates):
    body = json.dumps({"updates": updates}).encode()
    keys = site.keys
    headers = signed_headers(
        private_key=keys.key,
        kid=keys.kid,
        issuer=keys.slug,
        audience="federation",
        method="POST",
        path=UPDATES_URL,
        body=body,
    )
    return client.post(
        UPDATES_URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=headers["Authorization"]
    )


# (transition, queries, event INSERTs). Placing writes the order's and the resource's events (two
# state changes: two inserts); every other transition of an order one event, or two when it
# finishes the order and so moves its resource too - in one INSERT either way.
SERVICE_TRANSITIONS = [
    ("create", 22, 2),  # 20, and one query each for the order checks of shares and of policies
    ("approve_by_consumer", 8, 1),
    ("approve_by_provider", 18, 1),
    ("reject_by_consumer", 11, 2),
    ("reject_by_provider", 11, 2),
    ("cancel", 10, 2),
]


@pytest.mark.parametrize(("transition", "queries", "inserts"), SERVICE_TRANSITIONS)
def test_a_transition_runs_a_pinned_number_of_queries(place, people, transition, queries, inserts):
    ready = {
        "create": [],
        "approve_by_consumer": [place],
        "approve_by_provider": [place, "approve_by_consumer"],
        "reject_by_consumer": [place],
        "reject_by_provider": [place, "approve_by_consumer"],
        "cancel": [place],
    }[transition]
    order = None
    for step in ready:
        order = step() if callable(step) else _act(step, order, people)
    with Counted() as counted:
        order = place() if transition == "create" else _act(transition, order, people)
    assert (counted.queries, counted.event_inserts) == (queries, inserts)
    assert order.state != OrderState.PENDING_CONSUMER or transition == "create"


def _act(transition: str, order: Order, people) -> Order:
    actor = {
        "approve_by_consumer": people["manager"],
        "approve_by_provider": people["provider_owner"],
        "reject_by_consumer": people["manager"],
        "reject_by_provider": people["provider_owner"],
        "cancel": people["admin"],
    }[transition]
    return getattr(marketplace, f"order_{transition}")(order=order.uuid, actor=actor)


BATCH = 5


# (states each order of the batch reports in turn, queries for a batch of one order, of BATCH orders).
# Each order's transition is tried in its own savepoint (two statements per order), and entering
# executing hands each order to the outbox; the row writes, history rows and events of the whole
# batch are one statement each, whatever its size.
BATCHES = [
    pytest.param(["executing"], 23, 71, id="executing"),
    pytest.param(["done"], 14, 22, id="done"),
    pytest.param(["erred"], 14, 22, id="erred"),
    pytest.param(["executing", "done"], 26, 82, id="executing+done"),
]


@pytest.mark.parametrize(("states", "one", "many"), BATCHES)
def test_a_provider_batch_runs_a_pinned_number_of_queries_with_one_insert_of_events(
    client, site, place, people, states, one, many
):
    """Batches of one and of BATCH orders: pinned counts, and the events of the whole batch in one INSERT."""
    counts = []
    for size in (1, BATCH):
        orders = [place() for _ in range(size)]
        for order in orders:
            marketplace.order_approve_by_consumer(order=order.uuid, actor=people["manager"])
            if states[0] != "executing":  # the provider takes a pending order into execution itself
                marketplace.order_approve_by_provider(order=order.uuid, actor=people["provider_owner"])
        updates = []
        for state in states:
            for order in orders:
                update = {"order_uuid": str(order.uuid), "state": state}
                if state == "done":
                    update["backend_id"] = f"acct-{order.pk}"
                if state == "erred":
                    update["error_message"] = "quota exceeded"
                updates.append(update)
        with Counted() as counted:
            answer = _post_updates(client, site, updates)
        assert answer.status_code == 200, answer.content
        assert all(result["accepted"] for result in answer.json()["results"]), answer.json()
        counts.append((counted.queries, counted.event_inserts))
        assert Event.objects.filter(
            order_uuid__in=[o.uuid for o in orders], event_type__in=EVENTS[states[-1]]
        ).count() == size * (2 if states[-1] != "executing" else 1)
    assert counts == [(one, 1), (many, 1)]
