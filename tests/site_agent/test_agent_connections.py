import re
import subprocess
import sys
from pathlib import Path

import requests

from tests.site_agent.harness import FakeOrchestrator, RunningAgent, write_config

ROOT = Path(__file__).resolve().parents[2]
USER = "6d1a4e8c-0000-4000-8000-0000000000a9"


def _cli(config_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "site_agent", "--config", str(config_path), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def _open(orch, agent, connection_id):
    payload = {"connection_id": connection_id, "user_uuid": USER, "email": "eve@example.org", "full_name": "Eve <b>"}
    response = orch.post(agent.url, "/connections", payload)
    assert response.status_code == 200
    url = response.json()["redirect_url"]
    assert re.fullmatch(re.escape(agent.url) + r"/connect/[A-Za-z0-9_-]{40,}", url)
    return url


def test_connection_completed_from_the_command_line(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        _open(orch, agent, "conn-1")
        config_path = write_config(tmp_path, orch)

        done = _cli(config_path, "connect", "conn-1", "eve")

        assert done.returncode == 0, done.stderr
        assert orch.connections == [{"connection_id": "conn-1", "user_uuid": USER, "username": "eve"}]
        assert orch.refused == []  # signed with the agent's key, read from the same key file
        assert _cli(config_path, "connect", "conn-1", "eve").returncode == 0  # idempotent
        assert _cli(config_path, "connect", "conn-1", "mallory").returncode == 1
        unknown = _cli(config_path, "connect", "conn-404", "eve")
        assert unknown.returncode == 1
        assert "no connection" in unknown.stderr
        assert len(orch.connections) == 1


def test_connection_completed_in_the_browser_once(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        url = _open(orch, agent, "conn-2")
        assert _open(orch, agent, "conn-2") == url  # asking again gives the same link

        form = requests.get(url, timeout=5)
        assert form.status_code == 200
        assert "<form method='post'>" in form.text
        assert "Eve &lt;b&gt;" in form.text  # escaped

        refused = requests.post(url, data={"username": "Not Valid!"}, timeout=5)
        assert refused.status_code == 400
        assert orch.connections == []

        done = requests.post(url, data={"username": "eve"}, timeout=5)
        assert done.status_code == 200
        assert "connected as eve" in done.text
        assert orch.connections == [{"connection_id": "conn-2", "user_uuid": USER, "username": "eve"}]

        assert requests.get(url, timeout=5).status_code == 410  # used up
        assert requests.post(url, data={"username": "eve"}, timeout=5).status_code == 410
        assert requests.get(agent.url + "/connect/" + "x" * 43, timeout=5).status_code == 404


def test_connected_in_the_browser_and_sent_back_where_the_orchestrator_said(tmp_path):
    back = "http://portal.example.org/accounts/providers/?connected=site"
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        payload = {"connection_id": "conn-3", "user_uuid": USER, "full_name": "Eve", "return_url": back}
        url = orch.post(agent.url, "/connections", payload).json()["redirect_url"]

        form = requests.get(url, timeout=5)
        assert "<label for='username'>Local username</label>" in form.text
        assert "<a href='http://portal.example.org/accounts/providers/?connected=site'>Back to the portal</a>" in (
            form.text
        )
        refused = requests.post(url, data={"username": "Not Valid!"}, timeout=5, allow_redirects=False)
        assert refused.status_code == 400 and "aria-invalid='true'" in refused.text

        done = requests.post(url, data={"username": "eve"}, timeout=5, allow_redirects=False)
        assert done.status_code == 303 and done.headers["Location"] == back
        assert "connected as eve" in done.text  # the page itself, for a client that does not follow
        assert orch.connections == [{"connection_id": "conn-3", "user_uuid": USER, "username": "eve"}]


def test_a_return_url_that_is_not_http_is_refused(tmp_path):
    with FakeOrchestrator() as orch, RunningAgent(tmp_path, orch) as agent:
        payload = {"connection_id": "conn-4", "user_uuid": USER, "return_url": "javascript:alert(1)"}
        refused = orch.post(agent.url, "/connections", payload)
        assert refused.status_code == 400 and refused.json()["field"] == "return_url"


def test_a_state_file_of_an_older_agent_gains_the_new_column(tmp_path):
    import sqlite3

    from protocol.messages import ConnectionRequest
    from site_agent.store import Store

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE connections (connection_id TEXT PRIMARY KEY, user_uuid TEXT NOT NULL, email TEXT NOT NULL,"
            " full_name TEXT NOT NULL, token TEXT NOT NULL UNIQUE, created_at REAL NOT NULL,"
            " state TEXT NOT NULL CHECK (state IN ('pending', 'done')), username TEXT NOT NULL DEFAULT '')"
        )
        db.execute("INSERT INTO connections VALUES ('old', ?, '', '', 'tok-old', 0, 'done', 'eve')", (USER,))
    store = Store(path)
    assert store.connection_get("old")["return_url"] == ""
    store.connection_open(ConnectionRequest(connection_id="new", user_uuid=USER, return_url="https://p.example/"), "t")
    assert store.connection_get("new")["return_url"] == "https://p.example/"
    store.close()
    Store(path).close()  # and starting again is harmless
