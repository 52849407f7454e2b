"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 that checks every delivery with
the receiver docs/webhooks.md shows (its code is read from the page and run), and with the
independent `standardwebhooks` package.

`mode` says how it answers: `ok` (200 after the checks), `unavailable` (503), `gone` (410), `hang`
(answers after `hang_seconds`), or `down` (`stop()` closes the socket: connections are refused).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import standardwebhooks

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_receiver():
    """The `receive(secret, headers, body)` function of docs/webhooks.md, with a fresh `seen` set."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    [code] = [block for block in blocks if "def receive(" in block]
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 (our own documentation's example)
    return namespace["receive"]


@dataclasses.dataclass
class Received:
    webhook_id: str
    headers: dict
    body: bytes
    answered: int
    event: dict | None = None  # what the documented receiver returned (None: a repeat, or not checked)
    verified: bool = False  # both checks passed
    repeat: bool = False


class Receiver:
    def __init__(self, port: int = 0):
        self.mode = "ok"
        self.hang_seconds = 5.0
        self.secret: str | None = None
        self.received: list[Received] = []
        self.on_request = None  # called with the webhook-id while a request is being handled
        self._receive = documented_receiver()
        self._lock = threading.Lock()
        self._start(port)

    def _start(self, port: int) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self) -> None:
        """Close the socket: connections are refused until `start_again()`."""
        self.server.shutdown()
        self.server.server_close()
        self.mode = "down"

    def start_again(self) -> None:
        self._start(self.port)
        self.mode = "ok"

    def close(self) -> None:
        if self.mode != "down":
            self.server.shutdown()
            self.server.server_close()

    def accepted(self) -> list[Received]:
        """Deliveries answered 200 after both checks passed, repeats included."""
        with self._lock:
            return [r for r in self.received if r.answered == 200 and r.verified]

    def accepted_ids(self) -> list[str]:
        return [r.webhook_id for r in self.accepted()]

    def _check(self, headers: dict, body: bytes) -> tuple[bool, dict | None, bool]:
        """(verified, event, repeat) by the documented receiver and by the standardwebhooks package."""
        try:
            event = self._receive(self.secret, headers, body)
            standardwebhooks.Webhook(self.secret).verify(body, headers)
        except (ValueError, KeyError, standardwebhooks.webhooks.WebhookVerificationError):
            return False, None, False
        return True, event, event is None

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {key.lower(): value for key, value in self.headers.items()}
                webhook_id = headers.get("webhook-id", "")
                if receiver.on_request is not None:
                    receiver.on_request(webhook_id)
                mode = receiver.mode
                if mode == "hang":
                    threading.Event().wait(receiver.hang_seconds)
                status = {"unavailable": 503, "gone": 410}.get(mode, 200)
                record = Received(webhook_id, headers, body, status)
                if status == 200:
                    record.verified, record.event, record.repeat = receiver._check(headers, body)
                    record.answered = status = 200 if record.verified else 400
                with receiver._lock:
                    receiver.received.append(record)
                answer = b'{"detail": "down for maintenance"}' if status == 503 else b"{}"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
