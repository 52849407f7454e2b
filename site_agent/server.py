"""The agent's HTTP front: stdlib ThreadingHTTPServer, JSON in and out, errors as clear 4xx answers.

Every endpoint except the public key set, the health check and the browser pages of the connection
flow needs a bearer token from the orchestrator, made for the request's method, path and body.
"""

from __future__ import annotations

import json
import logging
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from protocol.messages import ProtocolError
from protocol.tokens import TokenError

log = logging.getLogger("site_agent.http")

MAX_BODY = 16 * 1024 * 1024


class HttpError(Exception):
    def __init__(self, status: int, detail: str, **extra):
        super().__init__(detail)
        self.status = status
        self.payload = {"detail": detail, **extra}


class Request:
    def __init__(self, method: str, path: str, query: dict[str, str], headers, body: bytes, params: tuple):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.params = params

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HttpError(400, f"body is not valid JSON: {exc}") from None


class Html:
    """A page for a browser; with `location`, a redirect that also carries the page."""

    def __init__(self, status: int, text: str, *, location: str = ""):
        self.status = status
        self.text = text
        self.location = location


class Route:
    def __init__(self, method: str, pattern: str, handler, *, signed: bool = True):
        self.method = method
        self.pattern = re.compile(f"^{pattern}$")
        self.handler = handler
        self.signed = signed


class AgentServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the orchestrator's workers may all connect at once

    def __init__(self, address: tuple[str, int], *, routes: list[Route], verifier):
        self.routes = routes
        self.verifier = verifier
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "site-agent/1"
    timeout = 60  # an idle kept-alive connection gives its thread back after this many seconds
    server: AgentServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args) -> None:
        log.info("%s %s", self.client_address[0], format % args)

    def _dispatch(self, method: str) -> None:
        try:
            result = self._handle(method)
        except HttpError as exc:
            result = (exc.status, exc.payload)
        except ProtocolError as exc:
            result = (400, {"detail": str(exc), **exc.to_dict()})
        except Exception:
            log.exception("%s %s failed", method, self.path)
            result = (500, {"detail": "internal error in the site agent"})
        if isinstance(result, Html):
            self._send(result.status, result.text.encode("utf-8"), "text/html; charset=utf-8", location=result.location)
        else:
            status, payload = result
            self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _handle(self, method: str):
        url = urlsplit(self.path)
        body = self._read_body(method)  # read first: an unread body would spoil the kept-alive connection
        route, params = self._route(method, url.path)
        if route.signed:
            try:
                self.server.verifier.verify(self.headers.get("Authorization"), body, method=method, path=url.path)
            except TokenError as exc:
                log.warning("refused %s %s: %s (%s)", method, url.path, exc.reason, exc.detail)
                raise HttpError(401, exc.detail, reason=exc.reason) from None
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        return route.handler(Request(method, url.path, query, self.headers, body, params))

    def _route(self, method: str, path: str):
        allowed = False
        for route in self.server.routes:
            match = route.pattern.match(path)
            if match:
                if route.method == method:
                    return route, match.groups()
                allowed = True
        if allowed:
            raise HttpError(405, f"{method} is not allowed here")
        raise HttpError(404, "not found")

    def _read_body(self, method: str) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise HttpError(411, "send a Content-Length; chunked bodies are not accepted")
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            if method == "POST":
                raise HttpError(411, "Content-Length is required")
            return b""
        try:
            length = int(length_text)
        except ValueError:
            self.close_connection = True
            raise HttpError(400, "Content-Length is not a number") from None
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise HttpError(413, f"body larger than {MAX_BODY} bytes")
        return self.rfile.read(length)

    def _send(self, status: int, data: bytes, content_type: str, *, location: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
