import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.site_agent.harness import FakeOrchestrator, RunningAgent, batch, order_item, write_config

ROOT = Path(__file__).resolve().parents[2]


def _cli(config_path, *args):
    command = [sys.executable, "-m", "site_agent", "--config", str(config_path), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=30)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jwks_creates_a_private_key_readable_by_the_owner_only(tmp_path):
    with FakeOrchestrator() as orch:
        config_path = write_config(tmp_path, orch)
        result = _cli(config_path, "jwks")
        assert result.returncode == 0, result.stderr
        keys = json.loads(result.stdout)["keys"]
        assert [(k["kid"], k["kty"], k["crv"], k["alg"]) for k in keys] == [("demo-1", "OKP", "Ed25519", "EdDSA")]
        assert stat.S_IMODE(os.stat(tmp_path / "site-agent.key").st_mode) == 0o600
        assert json.loads(_cli(config_path, "jwks").stdout)["keys"] == keys  # the same key next time


def test_run_serves_until_sigterm(tmp_path):
    port = _free_port()
    with FakeOrchestrator() as orch:
        config_path = write_config(tmp_path, orch, agent={"listen": f"127.0.0.1:{port}"})
        process = subprocess.Popen(
            [sys.executable, "-m", "site_agent", "--config", str(config_path), "run"],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, "agent did not come up"
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
        log = process.stderr.read()
        assert "listening on" in log
        assert "stopped" in log


def test_diff_compares_the_backend_with_the_state_store(tmp_path):
    with FakeOrchestrator() as orch:
        with RunningAgent(tmp_path, orch) as agent:
            items = [order_item(slug="a"), order_item(slug="b")]
            assert orch.post(agent.url, "/orders/batch", batch(*items)).status_code == 202
            orch.wait_for(lambda: len(orch.updates) == 2)
        config_path = write_config(tmp_path, orch)

        clean = _cli(config_path, "diff")
        assert clean.returncode == 0, clean.stderr + clean.stdout

        with sqlite3.connect(tmp_path / "state.sqlite3") as db:
            db.execute("DELETE FROM local_allocations WHERE backend_id = 'local-a'")
            db.execute("INSERT INTO local_users VALUES ('local-b', 'intruder')")
        dirty = _cli(config_path, "diff")
        assert dirty.returncode == 1
        report = json.loads(dirty.stdout)
        assert report["missing"] == ["local-a"]
        assert report["unexpected_users"] == [["local-b", "intruder"]]


def test_configuration_errors_name_the_key(tmp_path):
    with FakeOrchestrator() as orch:
        config_path = write_config(tmp_path, orch, orchestrator={"timeout": "soon"})
        result = _cli(config_path, "jwks")
        assert result.returncode == 2
        assert "orchestrator.timeout" in result.stderr
