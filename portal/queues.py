"""The staff's queues: what waits on someone across the whole federation, read in a fixed number of queries.

- orders waiting for a project's approval, and for a provider's (oldest first: the longest wait leads);
- erred orders and erred resources (latest first);
- resources at or above 80 % of a limit in their period, among the `NEAR_LIMIT_SCAN` most recently
  changed active resources with limits (the same scan as the dashboard's).

Each queue has its full count (one aggregate query per model) and its first `QUEUE_SIZE` rows.
Only those who see everything (staff, and global support, who read) may read them.
"""

from __future__ import annotations

import dataclasses

from django.db.models import Count, Q
from django.urls import reverse

from federation.permissions import sees_everything
from marketplace import selectors
from marketplace.models import PENDING_ORDER_STATES, Order, OrderState, Resource, ResourceState

from .selectors import near_limit, queue_orders, rows_by_ids_first

QUEUE_SIZE = 10


@dataclasses.dataclass(frozen=True)
class Queue:
    key: str
    title: str
    count: int
    rows: list
    more_url: str = ""  # a filtered list with all of them, where the portal has one


@dataclasses.dataclass(frozen=True)
class Queues:
    pending_consumer: Queue
    pending_provider: Queue
    erred_orders: Queue
    erred_resources: Queue
    near_limit: Queue
    scanned: int

    def __iter__(self):
        return iter((self.pending_consumer, self.pending_provider, self.erred_orders, self.erred_resources))


def may_see_queues(user) -> bool:
    return sees_everything(user)


def staff_queues(user) -> Queues:
    orders = queue_orders(user)
    resources = selectors.resource_list(user=user)
    counted = (*PENDING_ORDER_STATES, OrderState.ERRED)
    # Only the orders of the counted states are read (from the state index), not every order.
    order_counts = (
        Order.objects.visible_to(user)
        .filter(state__in=counted)
        .aggregate(
            pending_consumer=Count("id", filter=Q(state=OrderState.PENDING_CONSUMER)),
            pending_provider=Count("id", filter=Q(state=OrderState.PENDING_PROVIDER)),
            erred=Count("id", filter=Q(state=OrderState.ERRED)),
        )
    )
    erred_resources = Resource.objects.visible_to(user).filter(state=ResourceState.ERRED).count()
    oldest = ("created", "id")
    latest = ("-modified", "-id")
    near, scanned = near_limit(resources)

    def queue(key, title, count, rows, ordering, listing, state):
        """The first rows of one state, oldest or latest first, with the filtered list of all of them; their
        ids are picked alone, from the index on the state and the sort keys, and the rows then read by id
        with their joins (planning the joins and the filters together cost PostgreSQL twice as long)."""
        chosen = rows.filter(state=state).order_by(*ordering)[:QUEUE_SIZE]
        first = list(rows_by_ids_first(rows, chosen).order_by(*ordering))
        return Queue(key, title, count, first, f"{reverse(listing)}?state={state}")

    return Queues(
        pending_consumer=queue(
            "pending-consumer",
            "Orders waiting for the project's approval",
            order_counts["pending_consumer"],
            orders,
            oldest,
            "portal-orders",
            OrderState.PENDING_CONSUMER,
        ),
        pending_provider=queue(
            "pending-provider",
            "Orders waiting for the provider's approval",
            order_counts["pending_provider"],
            orders,
            oldest,
            "portal-orders",
            OrderState.PENDING_PROVIDER,
        ),
        erred_orders=queue(
            "erred-orders", "Erred orders", order_counts["erred"], orders, latest, "portal-orders", OrderState.ERRED
        ),
        erred_resources=queue(
            "erred-resources",
            "Erred resources",
            erred_resources,
            resources,
            latest,
            "portal-resources",
            ResourceState.ERRED,
        ),
        near_limit=Queue("near-limit", "Resources near or over a limit", len(near), near[:QUEUE_SIZE]),
        scanned=scanned,
    )
