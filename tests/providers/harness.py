"""Real processes for the end-to-end tests: a Celery worker, a site agent, and a proxy that can fail.

The worker and the agent run as separate OS processes, exactly as deployed; the orchestrator's web
side is pytest-django's live server, on the test database the worker also connects to.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BROKER_DB = int(os.environ.get("TEST_BROKER_DB", "14"))  # two runs side by side use two pairs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {message}")


def worker_database_url() -> str:
    name = connection.settings_dict["NAME"]
    host = connection.settings_dict.get("HOST") or "127.0.0.1"
    port = connection.settings_dict.get("PORT") or 5432
    user = connection.settings_dict.get("USER") or "postgres"
    return f"postgres://{user}@{host}:{port}/{name}"


def broker_url() -> str:
    return f"redis://127.0.0.1:6379/{BROKER_DB}"


class Worker:
    """The Celery workers as deployed, on the test database and a Redis broker of their own.

    Two processes, as in production: one for the default queue (deliveries and the rest) with
    embedded beat, and one for the `pulls` queue, so pulls can never hold the delivering processes.
    """

    def __init__(self, tmp_path: Path, *, extra_env: dict | None = None, concurrency: int = 2):
        self.tmp_path = tmp_path
        self.extra_env = extra_env or {}
        self.concurrency = concurrency
        self.processes: list[subprocess.Popen] = []
        self.log_paths = [tmp_path / "worker.log", tmp_path / "worker-pulls.log"]

    @property
    def log_path(self) -> Path:
        return self.log_paths[0]

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": worker_database_url(),
                "CELERY_BROKER_URL": broker_url(),
                "CACHE_URL": f"redis://127.0.0.1:6379/{BROKER_DB + 1}",
                "FEDERATION_VAR_DIR": str(self.tmp_path),
                "DATABASE_CONN_MAX_AGE": "0",
                "PROVIDER_DELIVER_INTERVAL": "1",
                "PROVIDER_MANIFEST_INTERVAL": "2",
                "PROVIDER_USAGE_INTERVAL": "1",
                "PROVIDER_VERIFY_INTERVAL": "3",
                "PROVIDER_SWEEP_INTERVAL": "2",
                "PROVIDER_STUCK_AFTER": "5",
                "PROVIDER_TIMEOUT": "2",
                "PROVIDER_RETRY_BASE": "0.3",
                "PROVIDER_RETRY_CAP": "1.5",
                "PROVIDER_FAILURE_THRESHOLD": "1000",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> Worker:
        common = ["--loglevel", "INFO", "--concurrency", str(self.concurrency), "--without-gossip", "--without-mingle"]
        commands = [
            ["-n", "deliveries@%h", "-Q", "celery", "-B", "-s", str(self.tmp_path / "beat-schedule")],
            ["-n", "pulls@%h", "-Q", "pulls"],
        ]
        # A worker started again appends to the same logs: look for "ready." only after what is there.
        offsets = [path.stat().st_size if path.exists() else 0 for path in self.log_paths]
        for log_path, args in zip(self.log_paths, commands, strict=True):
            log = open(log_path, "ab")  # noqa: SIM115 (lives as long as the process)
            self.processes.append(
                subprocess.Popen(
                    [PYTHON, "-m", "celery", "-A", "config", "worker", *args, *common],
                    cwd=ROOT,
                    env=self.env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        for log_path, process, offset in zip(self.log_paths, self.processes, offsets, strict=True):
            wait_for(
                lambda log_path=log_path, process=process, offset=offset: (
                    b"ready." in log_path.read_bytes()[offset:] or process.poll() is not None
                ),
                timeout=60,
                message="the Celery workers to start",
            )
            if process.poll() is not None:
                raise AssertionError(f"worker exited: {self.log()}")
        return self

    @property
    def process(self) -> subprocess.Popen | None:
        return self.processes[0] if self.processes else None

    def kill(self, sig=signal.SIGKILL) -> None:
        """Kill both workers' whole process groups (the main processes, their pools and beat)."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, sig)
        for process in self.processes:
            process.wait(timeout=30)

    def stop(self) -> None:
        """Warm shutdown, then make sure no process of the groups is left holding a database connection."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        time.sleep(0.3)

    def log(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-3000:] for path in self.log_paths if path.exists())


def flush_broker() -> None:
    for db in (BROKER_DB, BROKER_DB + 1):
        redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


class Agent:
    """The reference site agent as its own process, with the local backend."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        orchestrator_url: str,
        provider_id: str = "e2e",
        backend_name: str = "local",
        backend: dict | None = None,
    ):
        self.tmp_path = tmp_path
        self.port = free_port()
        self.provider_id = provider_id
        self.config_path = tmp_path / "agent.toml"
        self.log_path = tmp_path / "agent.log"
        self.journal_path = tmp_path / "backend-journal.log"
        backend = dict(backend or {})
        if backend_name == "local":
            backend.setdefault("journal_path", str(self.journal_path))
        backend_lines = "\n".join(f"{k} = {toml_value(v)}" for k, v in backend.items())
        self.config_path.write_text(
            f"""
[agent]
provider_id = "{provider_id}"
listen = "127.0.0.1:{self.port}"
state_path = "agent-state.sqlite3"
private_key_path = "agent.key"
key_id = "{provider_id}-1"

[orchestrator]
url = "{orchestrator_url}"
issuer = "federation"
jwks_url = "{orchestrator_url}/.well-known/jwks.json"
timeout = 5
retry_base = 0.2
retry_max = 1.0

[backend]
name = "{backend_name}"

[backend.{backend_name}]
{backend_lines}

[usage]
sample_interval = 0.5
"""
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def jwks(self) -> dict:
        out = subprocess.run(
            [PYTHON, "-m", "site_agent", "--config", str(self.config_path), "jwks"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout)

    def start(self) -> Agent:
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [PYTHON, "-m", "site_agent", "--config", str(self.config_path), "--log-level", "DEBUG", "run"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._answers, timeout=30, message="the site agent to listen")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"agent exited: {self.log()}")
        try:
            requests.get(self.url + "/.well-known/jwks.json", timeout=1)
        except requests.RequestException:
            return False
        return True

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def journal(self) -> list[str]:
        """Every backend call the agent made, one line each: `<operation> <resource_uuid>`."""
        if not self.journal_path.exists():
            return []
        return [line for line in self.journal_path.read_text().splitlines() if line.strip()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


def toml_value(value) -> str:
    """A value as TOML (strings, numbers, booleans and nested tables, which become inline tables)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


class FaultProxy:
    """Stands between the orchestrator and the agent: passes, answers 500, hangs, or refuses."""

    def __init__(self, target: str):
        self.target = target
        self.mode = "pass"  # pass | error | hang | deliver_then_hang | reject
        self.hang_seconds = 30.0
        self.seen: list[str] = []
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.seen.append(f"{self.command} {self.path} {proxy.mode}")
                if proxy.mode == "error":
                    return self._send(500, b'{"detail": "injected failure"}')
                if proxy.mode == "reject":
                    return self._send(422, b'{"detail": "batch refused by site policy"}')
                if proxy.mode == "hang":
                    proxy.release.wait(proxy.hang_seconds)
                    return self._send(504, b'{"detail": "hung"}')
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                try:
                    answer = requests.request(
                        self.command, proxy.target + self.path, data=body or None, headers=headers, timeout=30
                    )
                except requests.RequestException:
                    return self._send(502, b'{"detail": "agent unreachable"}')
                if proxy.mode == "deliver_then_hang":
                    # The agent has the batch; the answer never reaches the orchestrator in time.
                    proxy.release.wait(proxy.hang_seconds)
                    return self._send(504, b'{"detail": "hung after delivery"}')
                self._send(answer.status_code, answer.content)

            def _send(self, status, body):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _forward
            do_POST = _forward

        return Handler
