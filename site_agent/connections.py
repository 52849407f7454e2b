"""Connecting a federated user to a local account at the site.

The orchestrator asks for a connection and sends the user's browser to the link the agent returns.
The page there stands for the site's own login: the user gives the local username, the agent tells
the orchestrator, signed. The `connect` command does the same without a browser.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
import time

import requests

from protocol.messages import ConnectionRequest
from site_agent.orchestrator import CONNECTIONS_PATH, OrchestratorClient
from site_agent.store import Store

log = logging.getLogger("site_agent.connections")

LINK_LIFETIME = 3600  # seconds a connection link stays usable
USERNAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")


class ConnectionFailed(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def connection_open(*, store: Store, request: ConnectionRequest, public_url: str) -> str:
    """Remember the request; the link the user follows to finish it."""
    token = store.connection_open(request, secrets.token_urlsafe(32))
    return f"{public_url}/connect/{token}"


def connection_for_link(*, store: Store, token: str):
    row = store.connection_by_token(token)
    if row is None:
        raise ConnectionFailed("this link is not valid", status=404)
    if row["state"] == "done":
        raise ConnectionFailed(f"this account is already connected as {row['username']}", status=410)
    if time.time() - row["created_at"] > LINK_LIFETIME:
        raise ConnectionFailed("this link has expired; start again from the portal", status=410)
    return row


def connection_complete(*, store: Store, client: OrchestratorClient, connection_id: str, username: str) -> None:
    """Tell the orchestrator which local account the user has; idempotent for the same username."""
    row = store.connection_get(connection_id)
    if row is None:
        raise ConnectionFailed(f"no connection {connection_id!r}", status=404)
    if row["state"] == "done":
        if row["username"] == username:
            return
        raise ConnectionFailed(f"connection {connection_id} is already completed as {row['username']}", 409)
    if not USERNAME.match(username):
        raise ConnectionFailed("a local username is lower-case letters, digits, '.', '-' and '_'")
    payload = {"connection_id": connection_id, "user_uuid": row["user_uuid"], "username": username}
    try:
        response = client.post(CONNECTIONS_PATH, payload)
    except requests.RequestException as exc:
        raise ConnectionFailed(f"the orchestrator cannot be reached: {exc}", status=502) from None
    if not 200 <= response.status_code < 300:
        raise ConnectionFailed(f"the orchestrator refused: HTTP {response.status_code}", status=502)
    store.connection_done(connection_id, username)
    log.info("connection %s completed: user %s is %s", connection_id, row["user_uuid"], username)


def page(title: str, body_html: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body><main><h1>{html.escape(title)}</h1>{body_html}</main>"
        "</body></html>"
    )


def _back_link(row) -> str:
    """A way back to where the user came from, when the orchestrator said where that is."""
    url = row["return_url"]
    return f"<p><a href='{html.escape(url, quote=True)}'>Back to the portal</a></p>" if url else ""


def form_page(row, error: str = "") -> str:
    who = html.escape(row["full_name"] or row["email"] or row["user_uuid"])
    problem = f"<p role='alert' id='problem'>{html.escape(error)}</p>" if error else ""
    described = " aria-describedby='problem' aria-invalid='true'" if error else ""
    return page(
        "Connect your account",
        f"<p>Connecting {who} to a local account at this site.</p>{problem}"
        "<form method='post'><label for='username'>Local username</label> "
        f"<input id='username' name='username' required autofocus autocomplete='username'{described}>"
        " <button type='submit'>Connect</button></form>" + _back_link(row),
    )


def connected_page(row, username: str) -> str:
    return page("Connected", f"<p>Your account is connected as {html.escape(username)}.</p>" + _back_link(row))
