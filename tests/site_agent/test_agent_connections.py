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
