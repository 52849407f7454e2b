"""Real parts for the agent's tests: the agent's own HTTP server and a small fake orchestrator.

Plain context managers rather than fixtures, so these tests need no conftest and no database.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from protocol.http import encode_body, signed_headers
from protocol.keys import KeySet, generate_private_key, jwks, public_jwk
from protocol.tokens import MemoryReplayGuard, TokenError, issue_token, verify_token
from site_agent.agent import Agent
from site_agent.config import parse_config

ORCHESTRATOR_ID = "federation"
PROVIDER_ID = "demo"


class FakeOrchestrator:
    """Serves its JWKS and records the agent's signed calls, after verifying them with the agent's keys."""

    def __init__(self):
        self.key = generate_private_key()
        self.kid = "orch-1"
        self.published = {self.kid: self.key}
        self.agent_keys: KeySet | None = None
        self.guard = MemoryReplayGuard()
        self.updates: list[dict] = []
        self.usage: list[dict] = []
        self.connections: list[dict] = []
        self.refused: list[str] = []  # reasons of calls refused for a bad token
        # judge(kind, item) -> None to take the item, or the refusal ({"accepted": False, "detail", "retry"})
        self.judge = lambda kind, item: None
        self.refusals: list[tuple[str, dict]] = []  # (kind, item) of every item refused
        self.requests = 0
        self.status = 200  # answer 5xx to simulate trouble
        self.jwks_fetches = 0
        self.changed = threading.Condition()
        self.server: ThreadingHTTPServer | None = None
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeOrchestrator:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> FakeOrchestrator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, predicate, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("timed out waiting for the orchestrator to receive the expected calls")
                self.changed.wait(remaining)

    def updates_for(self, order_uuid: str) -> list[dict]:
        with self.changed:
            return [u for u in self.updates if u["order_uuid"] == order_uuid]

    # --- calling the agent as the orchestrator --------------------------------------------------

    def headers(
        self,
        body: bytes,
        *,
        method: str = "POST",
        path: str = "/orders/batch",
        kid: str | None = None,
        key=None,
        audience: str = PROVIDER_ID,
    ) -> dict:
        kid = kid or self.kid
        return signed_headers(
            private_key=key or self.published.get(kid, self.key),
            kid=kid,
            issuer=ORCHESTRATOR_ID,
            audience=audience,
            method=method,
            path=path,
            body=body,
        )

    def token(self, body: bytes = b"", **overrides) -> dict:
        """Headers with a hand-made token (for POST /orders/batch unless overridden), for the failure cases."""
        kwargs = {
            "private_key": self.key,
            "kid": self.kid,
            "issuer": ORCHESTRATOR_ID,
            "audience": PROVIDER_ID,
            "subject": ORCHESTRATOR_ID,
            "method": "POST",
            "path": "/orders/batch",
            "body": body or None,
        }
        kwargs.update(overrides)
        return {"Authorization": f"Bearer {issue_token(**kwargs)}", "Content-Type": "application/json"}

    def post(self, agent_url: str, path: str, payload: object, **kw) -> requests.Response:
        body = encode_body(payload)
        headers = self.headers(body, method="POST", path=path.split("?")[0], **kw)
        return requests.post(agent_url + path, data=body, headers=headers, timeout=10)

    def get(self, agent_url: str, path: str, **kw) -> requests.Response:
        headers = self.headers(b"", method="GET", path=path.split("?")[0], **kw)
        return requests.get(agent_url + path, headers=headers, timeout=10)


def _handler(orch: FakeOrchestrator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def do_GET(self):
            if self.path == "/.well-known/jwks.json":
                orch.jwks_fetches += 1
                self._answer(200, jwks(*(public_jwk(k, kid) for kid, k in orch.published.items())))
            else:
                self._answer(404, {"detail": "not found"})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            orch.requests += 1
            if orch.status >= 500:
                self._answer(orch.status, {"detail": "unavailable"})
                return
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                verify_token(
                    token,
                    key_lookup=orch.agent_keys.get,
                    audience=ORCHESTRATOR_ID,
                    issuer=PROVIDER_ID,
                    replay_guard=orch.guard,
                    method="POST",
                    path=self.path,
                    body=body,
                )
            except TokenError as exc:
                orch.refused.append(exc.reason)
                self._answer(401, {"detail": exc.detail, "reason": exc.reason})
                return
            payload = json.loads(body)
            with orch.changed:
                if self.path == "/api/provider/orders/updates/":
                    answer = {"results": _judged(orch, "order_update", payload["updates"], orch.updates, "order_uuid")}
                elif self.path == "/api/provider/usage/":
                    results = _judged(orch, "usage", payload["records"], orch.usage, "cursor")
                    answer = {"imported": sum(r["accepted"] for r in results), "results": results}
                elif self.path == "/api/provider/connections/":
                    orch.connections.append(payload)
                    answer = {"detail": "connected"}
                else:
                    self._answer(404, {"detail": "not found"})
                    return
                orch.changed.notify_all()
            self._answer(200, answer)

        def _answer(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _judged(orch: FakeOrchestrator, kind: str, items: list[dict], taken: list[dict], key: str) -> list[dict]:
    """A result per item, as the orchestrator answers: taken items are recorded, refused ones set aside."""
    results = []
    for item in items:
        verdict = orch.judge(kind, item)
        if verdict is None:
            taken.append(item)
            results.append({key: item.get(key), "accepted": True, "detail": "", "retry": False})
        else:
            orch.refusals.append((kind, item))
            results.append({key: item.get(key), "accepted": False, "detail": "", "retry": False, **verdict})
    return results


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def agent_config(tmp_path: Path, orch: FakeOrchestrator, **overrides) -> dict:
    """A configuration for an agent on a free port, talking to `orch`; sections can be overridden."""
    config = {
        "agent": {"provider_id": PROVIDER_ID, "listen": "127.0.0.1:0", "state_path": "state.sqlite3"},
        "orchestrator": {
            "url": orch.url,
            "issuer": ORCHESTRATOR_ID,
            "timeout": 2,
            "jwks_refetch_interval": 0,
            "retry_base": 0.05,
            "retry_max": 0.2,
        },
        "backend": {"name": "local", "local": {}},
        "usage": {"sample_interval": 3600},
    }
    for section, values in overrides.items():
        config[section] = {**config[section], **values}
    return config


def write_config(tmp_path: Path, orch: FakeOrchestrator, **sections) -> Path:
    """The same configuration as a TOML file, for the command line."""
    lines = []
    for section, values in agent_config(tmp_path, orch, **sections).items():
        tables = {k: v for k, v in values.items() if isinstance(v, dict)}
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items() if not isinstance(v, dict)]
        for name, table in tables.items():
            lines.append(f"[{section}.{name}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    path = tmp_path / "agent.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


class RunningAgent:
    """The real agent (HTTP server and threads) on 127.0.0.1, stopped on exit."""

    def __init__(self, tmp_path: Path, orch: FakeOrchestrator, *, instance=None, **sections):
        self.config = parse_config(agent_config(tmp_path, orch, **sections), base_dir=tmp_path)
        self.agent = Agent(self.config, backend=instance)
        orch.agent_keys = KeySet(self.agent.jwks())

    def __enter__(self) -> Agent:
        self.agent.start()
        return self.agent

    def __exit__(self, *exc) -> None:
        self.agent.stop()


def order_item(order_type: str = "create", *, resource_uuid: str | None = None, slug: str = "alloc", **extra) -> dict:
    project = {
        "uuid": "6d1a4e8c-0000-4000-8000-000000000001",
        "name": "Project One",
        "slug": "project-one",
        "customer_uuid": "6d1a4e8c-0000-4000-8000-0000000000c1",
        "customer_name": "Customer One",
        "customer_slug": "customer-one",
        "members": [
            {"user_uuid": "6d1a4e8c-0000-4000-8000-0000000000a1", "username": "alice", "role": "PROJECT.ADMIN"},
            {"user_uuid": "6d1a4e8c-0000-4000-8000-0000000000a2", "username": None, "role": "PROJECT.MEMBER"},
        ],
    }
    item = {
        "order_uuid": str(uuid.uuid4()),
        "type": order_type,
        "resource": {
            "uuid": resource_uuid or str(uuid.uuid4()),
            "name": slug.title(),
            "slug": slug,
            "backend_id": "",
            "offering_uuid": "6d1a4e8c-0000-4000-8000-0000000000f1",
            "offering_type": "SiteAgent.Local",
            "plan": {"uuid": "6d1a4e8c-0000-4000-8000-0000000000b1", "name": "Default"},
            "limits": {"cpu": 100, "storage": 10},
            "attributes": {},
        },
        "project": project,
        "limits": {"cpu": 100, "storage": 10},
        "attributes": {},
    }
    item.update(extra)
    return item


def batch(*items: dict) -> dict:
    return {"batch_id": str(uuid.uuid4()), "items": list(items)}
