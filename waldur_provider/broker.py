"""RabbitMQ, as Waldur site agents in event mode reach it: STOMP over WebSocket (the Web-STOMP plugin).

Two settings switch event mode on (docs/waldur-site-agent.md):

  * AGENT_EVENTS_BROKER_API — the management plugin's HTTP API with an administrator's credentials
    (http://user:password@host:15672): virtual hosts, agent users and queues are made through it;
  * AGENT_EVENTS_BROKER_URL — AMQP as the same administrator (amqp://user:password@host:5672): the
    messages are published through it, with publisher confirms.

Each agent user gets a virtual host of its own, may read it and nothing else, and logs in with the
API token it registered with. Its queues are durable; a message not read within a day is dropped
(the agent's reconciliation by polling picks up whatever it missed).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlsplit, urlunsplit

import kombu
import requests
from django.conf import settings

QUEUE_ARGUMENTS = {"x-message-ttl": 24 * 3600 * 1000, "x-max-length": 100_000, "x-overflow": "drop-head"}
TIMEOUT = 10  # seconds for one management call


class BrokerError(Exception):
    """RabbitMQ refused or did not answer; the message says which call and why."""


def enabled() -> bool:
    return bool(settings.AGENT_EVENTS_BROKER_API and settings.AGENT_EVENTS_BROKER_URL)


def _api() -> tuple[str, tuple[str, str]]:
    parts = urlsplit(settings.AGENT_EVENTS_BROKER_API)
    base = urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), "/api", "", ""))
    return base, (parts.username or "", parts.password or "")


def _call(method: str, path: str, body: dict | None = None) -> None:
    base, auth = _api()
    try:
        answer = requests.request(method, f"{base}/{path}", auth=auth, json=body, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise BrokerError(f"RabbitMQ's management API did not answer ({method} {path}): {exc}") from exc
    if answer.status_code == 404 and method == "DELETE":
        return
    if answer.status_code >= 300:
        raise BrokerError(f"RabbitMQ refused {method} {path}: {answer.status_code} {answer.text[:300]}")


def _q(name: str) -> str:
    return quote(name, safe="")


def queue_provision(*, username: str, password: str, vhost: str, queue: str) -> None:
    """The agent's virtual host, user (password refreshed) and durable queue, all idempotent."""
    admin = _api()[1][0]
    _call("PUT", f"vhosts/{_q(vhost)}", {"description": "a Waldur site agent's event queues"})
    _call("PUT", f"users/{_q(username)}", {"password": password, "tags": ""})
    _call("PUT", f"permissions/{_q(vhost)}/{_q(username)}", {"configure": "^$", "write": "^$", "read": "^consumer_"})
    _call("PUT", f"permissions/{_q(vhost)}/{_q(admin)}", {"configure": ".*", "write": ".*", "read": ".*"})
    queue_body = {"durable": True, "auto_delete": False, "arguments": QUEUE_ARGUMENTS}
    _call("PUT", f"queues/{_q(vhost)}/{_q(queue)}", queue_body)


def user_remove(*, username: str) -> None:
    """Delete the agent's RabbitMQ user: its connections close and its password stops working."""
    _call("DELETE", f"users/{_q(username)}")


def publish(vhost: str, messages: Iterable[tuple[str, dict]]) -> None:
    """Publish (queue name, JSON body) pairs to `vhost`, persistent, each confirmed by the broker."""
    url = settings.AGENT_EVENTS_BROKER_URL.rstrip("/") + "/" + _q(vhost)
    try:
        with kombu.Connection(url, connect_timeout=TIMEOUT, transport_options={"confirm_publish": True}) as connection:
            producer = connection.Producer()
            for queue, body in messages:
                producer.publish(
                    body,
                    exchange="",
                    routing_key=queue,
                    serializer="json",
                    delivery_mode=2,
                    retry=False,
                    mandatory=False,
                )
    except Exception as exc:  # kombu and amqp raise many kinds: socket, protocol, access refused
        raise BrokerError(f"publishing to RabbitMQ virtual host {vhost!r} failed: {exc}") from exc
