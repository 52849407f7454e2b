"""The worker thread: runs accepted orders, membership changes and pauses through the backend, one at a time.

Each order's outcome, its effect on the allocation and the update for the orchestrator are written
in one transaction, so the update can never be lost nor sent for an outcome that was not recorded.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable

from protocol.messages import OrderItem
from site_agent.allocations import record_from_order, to_allocation
from site_agent.backends.base import Backend, BackendError
from site_agent.store import Store

log = logging.getLogger("site_agent.worker")

CHUNK = 50


class Worker(threading.Thread):
    def __init__(self, *, store: Store, backend: Backend, wake: threading.Event, stop: threading.Event, notify):
        super().__init__(name="site-agent-worker", daemon=True)
        self.store = store
        self.backend = backend
        self.wake = wake
        self.stop = stop
        self.notify: Callable[[], None] = notify  # called when updates are waiting in the outbox

    def run(self) -> None:
        while not self.stop.is_set():
            self.wake.wait(timeout=1.0)
            self.wake.clear()
            while not self.stop.is_set() and self.run_once():
                pass

    def run_once(self) -> int:
        """Run what is waiting (a chunk of orders, membership changes, pauses); return how many."""
        orders = self.store.orders_claim(CHUNK)
        for row in orders:
            if self.stop.is_set():
                break  # claimed orders left executing run again at the next start
            self.execute_order(row)
        changes = self.store.memberships_pending(CHUNK)
        for change in changes:
            self.apply_membership(change)
        pauses = self.store.pauses_pending(CHUNK)
        for change in pauses:
            self.apply_pause(change)
        return len(orders) + len(changes) + len(pauses)

    # --- orders ---------------------------------------------------------------------------------

    def execute_order(self, row: sqlite3.Row) -> None:
        item = OrderItem.from_dict(json.loads(row["payload"]))
        try:
            {"create": self._create, "update": self._update, "terminate": self._terminate}[item.type](item)
        except BackendError as exc:
            log.warning("order %s (%s) erred: %s", item.order_uuid, item.type, exc)
            self._finish_erred(item, str(exc) or type(exc).__name__)
        except Exception as exc:
            log.exception("order %s (%s) failed inside the agent", item.order_uuid, item.type)
            self._finish_erred(item, f"the site agent failed: {type(exc).__name__}: {exc}")
        self.notify()

    def _create(self, item: OrderItem) -> None:
        project = item.project
        self.store.members_seed(project.uuid, [(m.user_uuid, m.username, m.role) for m in project.members])
        existing = self.store.allocation_get(item.resource.uuid)
        record = record_from_order(item, existing["backend_id"] if existing else "")
        backend_id = self.backend.create(to_allocation(record, self.store.members(project.uuid)))
        record["backend_id"] = backend_id
        self.store.order_finish(item.order_uuid, state="done", backend_id=backend_id, allocation=record)
        log.info("order %s done: created %s for resource %s", item.order_uuid, backend_id, item.resource.uuid)

    def _update(self, item: OrderItem) -> None:
        record = self._current(item)
        self.backend.update_limits(to_allocation(record, self.store.members(record["project_uuid"])), item.limits)
        record["limits"] = dict(item.limits)
        self.store.order_finish(item.order_uuid, state="done", backend_id=record["backend_id"], allocation=record)
        log.info("order %s done: limits of %s now %s", item.order_uuid, record["backend_id"], item.limits)

    def _terminate(self, item: OrderItem) -> None:
        record = self._current(item)
        self.backend.terminate(to_allocation(record, self.store.members(record["project_uuid"])))
        record["live"] = False
        self.store.order_finish(item.order_uuid, state="done", backend_id=record["backend_id"], allocation=record)
        log.info("order %s done: terminated %s", item.order_uuid, record["backend_id"])

    def _current(self, item: OrderItem) -> dict:
        """The allocation as the agent knows it; from the order itself if the agent never saw it."""
        return self.store.allocation_get(item.resource.uuid) or record_from_order(item)

    def _finish_erred(self, item: OrderItem, message: str) -> None:
        existing = self.store.allocation_get(item.resource.uuid)
        backend_id = existing["backend_id"] if existing else item.resource.backend_id
        self.store.order_finish(item.order_uuid, state="erred", backend_id=backend_id, error_message=message)

    # --- memberships ----------------------------------------------------------------------------

    def apply_membership(self, change: sqlite3.Row) -> None:
        username, action = change["username"], change["action"]
        errors = []
        if username:
            members = self.store.members(change["project_uuid"])
            for record in self.store.allocations(project_uuid=change["project_uuid"]):
                allocation = to_allocation(record, members)
                try:
                    if action == "add":
                        self.backend.add_user(allocation, username)
                    else:
                        self.backend.remove_user(allocation, username)
                except Exception as exc:
                    errors.append(f"{record['backend_id']}: {exc}")
        message = "; ".join(errors)
        self.store.membership_finish(change["change_id"], error_message=message)
        if errors:
            log.warning("membership change %s (%s %s) failed: %s", change["change_id"], action, username, message)
        else:
            log.info("membership change %s applied: %s %s", change["change_id"], action, username or "-")

    # --- pauses ---------------------------------------------------------------------------------

    def apply_pause(self, change: sqlite3.Row) -> None:
        """Pause or resume the allocation, unless a newer change of the same resource was applied already."""
        verb = "pause" if change["paused"] else "resume"
        applied_sequence, _ = self.store.pause_state(change["resource_uuid"])
        if change["sequence"] <= applied_sequence:
            self.store.pause_finish(change, state="superseded")
            log.info("pause change %s superseded by a newer one", change["change_id"])
            return
        record = self.store.allocation_get(change["resource_uuid"])
        if record is None or not record["live"]:
            self.store.pause_finish(change, state="failed", error_message="the site has no live allocation for it")
            log.warning("pause change %s: no live allocation for %s", change["change_id"], change["resource_uuid"])
            return
        allocation = to_allocation(record, self.store.members(record["project_uuid"]))
        try:
            getattr(self.backend, verb)(allocation)
        except Exception as exc:
            self.store.pause_finish(change, state="failed", error_message=str(exc) or type(exc).__name__)
            log.warning("%s of %s failed: %s", verb, record["backend_id"], exc)
            return
        self.store.pause_finish(change, state="applied")
        log.info("%s of %s applied (change %s)", verb, record["backend_id"], change["change_id"])
