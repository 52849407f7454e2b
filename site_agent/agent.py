"""The agent: state store, backend, HTTP server and the background threads, started and stopped together."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.keys import generate_private_key, jwks, load_private_key, private_key_to_pem, public_jwk
from protocol.tokens import MemoryReplayGuard
from site_agent import api
from site_agent.backends import create_backend
from site_agent.backends.base import Backend
from site_agent.config import Config
from site_agent.delivery import Sender
from site_agent.orchestrator import OrchestratorClient, OrchestratorKeys, RequestVerifier
from site_agent.server import AgentServer
from site_agent.store import Store
from site_agent.usage import SamplerThread, UsageSampler
from site_agent.worker import Worker

log = logging.getLogger("site_agent")


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The agent's signing key; a new one is written (readable by the owner only) if there is none."""
    if path.exists():
        return load_private_key(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_key_to_pem(key))
    log.info("new signing key written to %s", path)
    return key


def build_backend(config: Config) -> Backend:
    options = dict(config.backend.options)
    if config.backend.name == "local":
        options.setdefault("state_path", str(config.agent.state_path))
    return create_backend(config.backend.name, options)


class Agent:
    def __init__(self, config: Config, *, backend: Backend | None = None):
        self.config = config
        a, o = config.agent, config.orchestrator
        a.state_path.parent.mkdir(parents=True, exist_ok=True)
        self.private_key = load_or_create_key(a.private_key_path)
        self.store = Store(a.state_path)
        self.backend = backend or build_backend(config)
        self.client = OrchestratorClient(
            url=o.url,
            audience=o.issuer,
            provider_id=a.provider_id,
            private_key=self.private_key,
            kid=a.key_id,
            timeout=o.timeout,
        )
        self.verifier = RequestVerifier(
            keys=OrchestratorKeys(
                jwks_url=o.jwks_url,
                timeout=o.timeout,
                cache_ttl=o.jwks_cache_ttl,
                refetch_interval=o.jwks_refetch_interval,
            ),
            provider_id=a.provider_id,
            issuer=o.issuer,
            replay_guard=MemoryReplayGuard(),
        )
        self.stop_event = threading.Event()
        self._order_event = threading.Event()
        self._outbox_event = threading.Event()
        self.sampler = UsageSampler(
            store=self.store, backend=self.backend, push=config.usage.push, notify=self._outbox_event.set
        )
        self.server: AgentServer | None = None
        self.worker: Worker | None = None
        self.sender: Sender | None = None
        self._threads: list[threading.Thread] = []

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        requeued = self.store.orders_requeue_interrupted()
        if requeued:
            log.info("%d interrupted order(s) will run again", requeued)
        a, o = self.config.agent, self.config.orchestrator
        self.server = AgentServer((a.host, a.port), routes=api.routes(self), verifier=self.verifier)
        self.worker = Worker(
            store=self.store,
            backend=self.backend,
            wake=self._order_event,
            stop=self.stop_event,
            notify=self._outbox_event.set,
        )
        self.sender = Sender(
            store=self.store,
            client=self.client,
            wake=self._outbox_event,
            stop=self.stop_event,
            retry_base=o.retry_base,
            retry_max=o.retry_max,
        )
        http = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, name="site-agent-http", daemon=True
        )
        sampler = SamplerThread(sampler=self.sampler, interval=self.config.usage.sample_interval, stop=self.stop_event)
        self._threads = [http, self.worker, self.sender, sampler]
        for thread in self._threads:
            thread.start()
        self._order_event.set()  # orders and updates left from an earlier run
        self._outbox_event.set()
        log.info("provider %s listening on %s (backend %s)", a.provider_id, self.url, self.backend.name)

    def stop(self) -> None:
        self.stop_event.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        self._order_event.set()
        self._outbox_event.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self.store.close()
        log.info("provider %s stopped", self.config.agent.provider_id)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def public_url(self) -> str:
        return self.config.agent.public_url or self.url

    # --- used by the endpoints ------------------------------------------------------------------

    def wake_worker(self) -> None:
        self._order_event.set()

    def jwks(self) -> dict:
        return jwks(public_jwk(self.private_key, self.config.agent.key_id))
