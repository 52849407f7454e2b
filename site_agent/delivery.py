"""The sender thread: delivers the outbox (order updates, pushed usage) to the orchestrator.

Whatever is waiting goes out at once, up to 100 messages per request; while a request is in flight
new messages pile up and travel together in the next one, so batching needs no waiting. A message
leaves the outbox only after a 2xx answer. Otherwise the sender backs off exponentially, with
jitter, and tries again; the outbox is in the state file, so a restart loses nothing.

A 2xx answer carries a result per message. A message refused for good (`accepted: false`: it is
invalid, or does not fit the order's state) is dropped and logged, never sent again; only one
refused with `retry: true` (the orchestrator was busy) stays for the next attempt, after a backoff.
"""

from __future__ import annotations

import logging
import random
import threading

import requests

from site_agent.orchestrator import UPDATES_PATH, USAGE_PATH, OrchestratorClient
from site_agent.store import Store

log = logging.getLogger("site_agent.delivery")

MAX_PER_REQUEST = 100
ROUTES = {"order_update": (UPDATES_PATH, "updates"), "usage": (USAGE_PATH, "records")}


def backoff_delay(failures: int, base: float, maximum: float) -> float:
    """Exponential in the number of failures in a row, with "equal jitter": between half and all of it."""
    delay = min(maximum, base * 2 ** min(failures - 1, 30))
    return delay / 2 + random.uniform(0, delay / 2)


class Sender(threading.Thread):
    def __init__(
        self,
        *,
        store: Store,
        client: OrchestratorClient,
        wake: threading.Event,
        stop: threading.Event,
        retry_base: float,
        retry_max: float,
    ):
        super().__init__(name="site-agent-sender", daemon=True)
        self.store = store
        self.client = client
        self.wake = wake
        self.stop = stop
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.failures = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.wake.wait(timeout=1.0)
            self.wake.clear()
            while not self.stop.is_set():
                sent = self.send_once()
                if sent is None:
                    self.stop.wait(backoff_delay(self.failures, self.retry_base, self.retry_max))
                elif sent == 0:
                    break

    def send_once(self) -> int | None:
        """Send one request's worth; the number of messages delivered, or None if delivery failed."""
        kind, rows = self.store.outbox_next(MAX_PER_REQUEST)
        if not rows:
            return 0
        path, key = ROUTES[kind]
        try:
            response = self.client.post(path, {key: [payload for _, payload in rows]})
        except requests.RequestException as exc:
            return self._failed(f"{len(rows)} {kind} message(s) not delivered: {exc}")
        if not 200 <= response.status_code < 300:
            return self._failed(
                f"{len(rows)} {kind} message(s) refused: HTTP {response.status_code} {response.text[:200]}"
            )
        retry = self._retried(kind, rows, _results(response))
        self.store.outbox_delete(row_id for row_id, _ in rows if row_id not in retry)
        if self.failures and not retry:
            log.info("orchestrator reachable again after %d failed attempt(s)", self.failures)
        log.info("delivered %d %s message(s)", len(rows) - len(retry), kind)
        if retry:
            return self._failed(f"{len(retry)} {kind} message(s) to be sent again: the orchestrator was busy")
        self.failures = 0
        return len(rows)

    def _failed(self, message: str) -> None:
        self.failures += 1
        log.warning("%s (attempt %d)", message, self.failures)
        return None

    @staticmethod
    def _retried(kind: str, rows: list[tuple[int, dict]], results: list) -> set[int]:
        """The rows to send again; the ones refused for good are logged and left to be deleted."""
        retry = set()
        for (row_id, payload), result in zip(rows, results, strict=False):
            if not isinstance(result, dict) or result.get("accepted") is not False:
                continue
            if result.get("retry") is True:
                retry.add(row_id)
                continue
            subject = payload.get("order_uuid") or f"{payload.get('resource_uuid')} {payload.get('component_type')}"
            log.warning("orchestrator refused %s %s for good, dropped: %s", kind, subject, result.get("detail"))
        return retry


def _results(response: requests.Response) -> list:
    """The per-message results of a 2xx answer, in the order the messages were sent."""
    try:
        results = response.json().get("results", [])
    except (ValueError, AttributeError):
        return []
    return results if isinstance(results, list) else []
