"""Usage sampling: ask the backend for every live allocation's usage this month, keep what changed.

A record is appended (with a new, increasing cursor) only when an amount differs from the last one
recorded for the same resource, component, month and user; amounts are cumulative for the month,
so the orchestrator can take the latest record and repeating a report does no harm.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from protocol.messages import ProtocolError, UsageRecord
from site_agent.allocations import to_allocation
from site_agent.backends.base import Backend
from site_agent.store import Store

log = logging.getLogger("site_agent.usage")


def decimal_string(amount: float | int | Decimal) -> str:
    value = Decimal(repr(float(amount))) if isinstance(amount, float) else Decimal(amount)
    return format(value.normalize(), "f")


def current_month() -> date:
    return datetime.now(UTC).date().replace(day=1)


class UsageSampler:
    def __init__(self, *, store: Store, backend: Backend, push: bool, notify: Callable[[], None]):
        self.store = store
        self.backend = backend
        self.push = push
        self.notify = notify  # called when pushed records wait in the outbox
        self._lock = threading.Lock()

    def sample(self, month: date | None = None) -> list[dict]:
        """Sample every live allocation once; returns the records appended."""
        month = month or current_month()
        with self._lock:  # two samples at once would compare against the same old amounts
            samples = []
            for record in self.store.allocations(live=True):
                samples.extend(self._sample_one(record, month))
            records = self.store.usage_record_changes(samples, push=self.push)
        if records:
            log.info("usage: %d new record(s), up to cursor %d", len(records), records[-1]["cursor"])
            if self.push:
                self.notify()
        return records

    def _sample_one(self, record: dict, month: date) -> list[dict]:
        allocation = to_allocation(record, self.store.members(record["project_uuid"]))
        try:
            reports = self.backend.report_usage(allocation, month)
        except Exception as exc:
            log.warning("usage of %s cannot be read: %s", record["backend_id"], exc)
            return []
        samples = []
        for report in reports:
            if report.amount < 0:
                log.warning("usage of %s: negative %s ignored", record["backend_id"], report.component_type)
                continue
            sample = {
                "resource_uuid": record["resource_uuid"],
                "backend_id": record["backend_id"],
                "component_type": report.component_type,
                "billing_month": month.isoformat(),
                "amount": decimal_string(report.amount),
                "username": report.username or "",
            }
            try:
                UsageRecord.from_dict({"cursor": 1, **sample})  # what the orchestrator would refuse is not kept
            except ProtocolError as exc:
                log.warning("usage of %s: %s ignored: %s", record["backend_id"], report.component_type[:60], exc)
                continue
            samples.append(sample)
        return samples


class SamplerThread(threading.Thread):
    def __init__(self, *, sampler: UsageSampler, interval: float, stop: threading.Event):
        super().__init__(name="site-agent-usage", daemon=True)
        self.sampler = sampler
        self.interval = interval
        self.stop = stop

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                self.sampler.sample()
            except Exception:
                log.exception("usage sampling failed")
