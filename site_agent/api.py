"""The provider endpoints: each takes a parsed request and answers (status, payload)."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from protocol.messages import (
    ConnectionRequest,
    Manifest,
    MembershipChanges,
    OrderBatch,
    OrderItem,
    PauseChanges,
    ProtocolError,
    VerifyRequest,
)
from site_agent.connections import (
    ConnectionFailed,
    connected_page,
    connection_complete,
    connection_for_link,
    connection_open,
    form_page,
    page,
)
from site_agent.server import Html, HttpError, Request, Route

if TYPE_CHECKING:
    from site_agent.agent import Agent

log = logging.getLogger("site_agent.api")

UUID = r"([0-9a-fA-F-]{32,36})"
USAGE_PAGE_DEFAULT = 100
USAGE_PAGE_MAX = 1000


def routes(agent: Agent) -> list[Route]:
    api = Api(agent)
    return [
        Route("POST", "/orders/batch", api.orders_batch),
        Route("GET", f"/orders/{UUID}", api.order_status),
        Route("GET", "/manifest", api.manifest),
        Route("GET", "/usage", api.usage),
        Route("POST", "/verify", api.verify),
        Route("POST", "/memberships", api.memberships),
        Route("POST", "/resources/pause", api.pauses),
        Route("POST", "/connections", api.connections),
        Route("GET", "/connect/([A-Za-z0-9_-]{16,100})", api.connect_form, signed=False),
        Route("POST", "/connect/([A-Za-z0-9_-]{16,100})", api.connect_submit, signed=False),
        Route("GET", "/.well-known/jwks.json", api.jwks, signed=False),
        Route("GET", "/healthz", api.health, signed=False),
    ]


class Api:
    def __init__(self, agent: Agent):
        self.agent = agent
        self.store = agent.store

    def orders_batch(self, request: Request):
        """All or nothing: every item is checked before any is stored, then all are stored at once."""
        data = request.json()
        try:
            batch = OrderBatch.from_dict(data)
        except ProtocolError as exc:
            errors = _batch_errors(data, exc)
            raise HttpError(400, f"batch rejected: {len(errors)} problem(s), nothing stored", items=errors) from None
        acks = self.store.orders_accept(batch.batch_id, batch.items)
        self.agent.wake_worker()
        log.info("batch %s accepted: %d order(s)", batch.batch_id, len(acks))
        return 202, {"batch_id": batch.batch_id, "items": [ack.to_dict() for ack in acks]}

    def order_status(self, request: Request):
        row = self.store.order_get(request.params[0])
        if row is None:
            raise HttpError(404, "no such order")
        return 200, {
            "order_uuid": row["order_uuid"],
            "state": row["state"],
            "backend_id": row["backend_id"],
            "error_message": row["error_message"],
        }

    def manifest(self, request: Request):
        described = dict(self.agent.backend.describe_manifest())
        # Whether the site can pause is the backend's to say, not its configuration's.
        described["features"] = {**described.get("features", {}), "resources": {"pause": self.agent.backend.can_pause}}
        described["provider_id"] = self.agent.config.agent.provider_id
        try:
            return 200, Manifest.from_dict(described).to_dict()
        except ProtocolError as exc:  # the backend's fault, not the caller's
            log.error("the %s backend describes an invalid manifest: %s", self.agent.backend.name, exc)
            raise HttpError(500, f"the site's manifest is invalid: {exc}") from None

    def usage(self, request: Request):
        after = _query_int(request.query, "after", 0, 0, 2**62)
        limit = _query_int(request.query, "limit", USAGE_PAGE_DEFAULT, 1, USAGE_PAGE_MAX)
        self.agent.sampler.sample()
        records, next_cursor = self.store.usage_page(after, limit)
        return 200, {"records": records, "next_cursor": next_cursor}

    def verify(self, request: Request):
        claimed = VerifyRequest.from_dict(request.json()).resources
        live = {a["resource_uuid"]: a["backend_id"] for a in self.store.allocations(live=True)}
        in_flight = self.store.orders_in_flight_resources()  # orders may be on their way; not a mismatch yet
        named = {ref.resource_uuid for ref in claimed}
        return 200, {
            "unknown_to_provider": [
                ref.resource_uuid
                for ref in claimed
                if ref.resource_uuid not in live and ref.resource_uuid not in in_flight
            ],
            "unknown_to_orchestrator": [
                {"resource_uuid": uuid, "backend_id": backend_id}
                for uuid, backend_id in live.items()
                if uuid not in named and uuid not in in_flight
            ],
        }

    def memberships(self, request: Request):
        changes = MembershipChanges.from_dict(request.json()).changes
        new = self.store.memberships_accept(changes)
        self.agent.wake_worker()
        return 202, {"received": len(changes), "new": new}

    def pauses(self, request: Request):
        """Store each change once (by change_id) and let the worker apply it; answered per change."""
        changes = PauseChanges.from_dict(request.json()).changes
        if changes and not self.agent.backend.can_pause:
            raise HttpError(409, f"the {self.agent.backend.name} backend cannot pause allocations")
        acks = self.store.pauses_accept(changes)
        self.agent.wake_worker()
        return 202, {"items": [ack.to_dict() for ack in acks]}

    def connections(self, request: Request):
        connection = ConnectionRequest.from_dict(request.json())
        url = connection_open(store=self.store, request=connection, public_url=self.agent.public_url)
        return 200, {"redirect_url": url}

    def connect_form(self, request: Request):
        try:
            row = connection_for_link(store=self.store, token=request.params[0])
        except ConnectionFailed as exc:
            return Html(exc.status, page("Cannot connect", f"<p>{html.escape(str(exc))}</p>"))
        return Html(200, form_page(row))

    def connect_submit(self, request: Request):
        try:
            row = connection_for_link(store=self.store, token=request.params[0])
        except ConnectionFailed as exc:
            return Html(exc.status, page("Cannot connect", f"<p>{html.escape(str(exc))}</p>"))
        form = parse_qs(request.body.decode("utf-8", "replace"))
        username = (form.get("username") or [""])[-1].strip()
        try:
            connection_complete(
                store=self.store, client=self.agent.client, connection_id=row["connection_id"], username=username
            )
        except ConnectionFailed as exc:
            return Html(400 if exc.status < 500 else exc.status, form_page(row, str(exc)))
        # Back to the orchestrator's page when it said where that is (303: the browser follows with a GET).
        location = row["return_url"]
        return Html(303 if location else 200, connected_page(row, username), location=location)

    def jwks(self, request: Request):
        return 200, self.agent.jwks()

    def health(self, request: Request):
        return 200, {"status": "ok", "provider_id": self.agent.config.agent.provider_id}


def _query_int(query: dict, name: str, default: int, minimum: int, maximum: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not minimum <= int(text) <= maximum:
        raise HttpError(400, f"{name} must be an integer from {minimum} to {maximum}", field=name)
    return int(text)


def _batch_errors(data: object, first: ProtocolError) -> list[dict]:
    """Every bad item of a rejected batch, so the sender can fix them all at once."""
    errors = []
    items = data.get("items") if isinstance(data, dict) else None
    for index, raw in enumerate(items if isinstance(items, list) else []):
        try:
            OrderItem.from_dict(raw, f"items[{index}]")
        except ProtocolError as exc:
            order_uuid = raw.get("order_uuid") if isinstance(raw, dict) else None
            errors.append({"index": index, "order_uuid": order_uuid, **exc.to_dict()})
    if not errors or not first.field.startswith("items["):
        errors.insert(0, {"index": None, "order_uuid": None, **first.to_dict()})
    return errors
