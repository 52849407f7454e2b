"""The local RabbitMQ (management and Web-STOMP plugins) for the event-mode tests.

`scripts/services.sh` starts RabbitMQ and enables the plugins where RabbitMQ is installed. Without a
broker the tests are skipped with the reason, and fail under CI, where it must be there.
"""

from __future__ import annotations

import json
import os

import amqp
import pytest
import requests

API = "http://guest:guest@127.0.0.1:15672"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672"
STOMP_WS = ("127.0.0.1", 15674, "/ws")


def _missing() -> str | None:
    try:
        answer = requests.get("http://127.0.0.1:15672/api/overview", auth=("guest", "guest"), timeout=5)
    except requests.RequestException as exc:
        return f"RabbitMQ's management API does not answer on 127.0.0.1:15672 ({exc})"
    if answer.status_code != 200:
        return f"RabbitMQ's management API answered {answer.status_code}"
    listeners = {item["protocol"] for item in answer.json().get("listeners", [])}
    if "http/web-stomp" not in listeners:
        return "RabbitMQ's Web-STOMP plugin is not enabled (rabbitmq-plugins enable rabbitmq_web_stomp)"
    return None


def require_broker() -> None:
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)


def remove_agent_objects(names) -> None:
    """Delete the virtual hosts and users of these agent users (what registration made)."""
    for name in names:
        for path in (f"vhosts/{name}", f"users/{name}"):
            requests.delete(f"http://127.0.0.1:15672/api/{path}", auth=("guest", "guest"), timeout=10)


def read_queue(*, username: str, password: str, vhost: str, queue: str, limit: int = 100) -> list[dict]:
    """What the queue holds, read as the agent's own RabbitMQ user (and so consumed)."""
    connection = amqp.Connection("127.0.0.1:5672", userid=username, password=password, virtual_host=vhost)
    connection.connect()
    try:
        channel = connection.channel()
        bodies = []
        while len(bodies) < limit:
            message = channel.basic_get(queue, no_ack=True)
            if message is None:
                return bodies
            bodies.append(json.loads(message.body))
        return bodies
    finally:
        connection.close()


def can_log_in(*, username: str, password: str, vhost: str) -> bool:
    connection = amqp.Connection("127.0.0.1:5672", userid=username, password=password, virtual_host=vhost)
    try:
        connection.connect()
    except (amqp.exceptions.AccessRefused, amqp.exceptions.NotAllowed, ConnectionError, OSError):
        return False
    connection.close()
    return True
