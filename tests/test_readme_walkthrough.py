"""The README's walk-through and docs/marketplace.md's, pasted whole into bash against `make run`.

`scripts/run.sh` (what `make run` runs) starts here as it starts for a newcomer: SQLite and the file
broker under a fresh var dir, the demo seed, the web server, a Celery worker and beat and the demo site
agent, on free ports and with none of the test suite's settings. The documents' ```sh blocks then run
with `set -euo pipefail`; only their base URL is changed to the port in use. What they leave behind is
checked through the API.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
DEMO_URL = "http://127.0.0.1:8000"
DEMO_PASSWORD = "demo-password-change-me"
START_TIMEOUT = 300  # a first start migrates a new SQLite database
BLOCK_TIMEOUT = 300
UUID = r"[0-9a-f-]{36}"


def sh_blocks(document: Path, heading: str) -> str:
    """The ```sh blocks of one section (from `heading` to the next heading of the same level)."""
    text = document.read_text()
    level = heading.split(" ")[0] + " "
    start = text.index(heading + "\n")
    end = text.find("\n" + level, start + len(heading))
    section = text[start : end if end != -1 else len(text)]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    assert blocks, f"no sh blocks under {heading!r} in {document.name}"
    return "\n".join(blocks)


def group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs. Zombies do not count: an orphan that has exited
    stays in the group until the machine's init reaps it, which some container inits never do."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def plain_env(**extra) -> dict[str, str]:
    """A newcomer's shell: none of the test suite's settings (database, broker, secret key, DEBUG)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(extra)
    return env


def bash(script: str, *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def explain(result: subprocess.CompletedProcess, log_dir: Path) -> str:
    logs = "".join(
        f"\n--- {log.name} (last lines)\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        for log in sorted(log_dir.glob("*.log"))
    )
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}{logs}"


class MakeRun:
    def __init__(self, root: Path):
        self.root = root
        self.var = root / "var"
        self.port, self.agent_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = root / "run.out"
        self.control_existed = (REPO / "control").exists()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = plain_env(FEDERATION_VAR_DIR=str(self.var), PORT=str(self.port), AGENT_PORT=str(self.agent_port))
        with self.output.open("w") as out:
            self.process = subprocess.Popen(
                ["bash", "scripts/run.sh"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, ended as a whole at the end
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not (
            self._answers(f"{self.url}/api/docs/") and self._answers(f"http://127.0.0.1:{self.agent_port}/healthz")
        ):
            if self.process.poll() is not None:
                pytest.fail(f"scripts/run.sh exited {self.process.returncode}:\n{self.output.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"make run did not answer within {START_TIMEOUT} s:\n{self.output.read_text()[-4000:]}")
            time.sleep(0.5)

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return requests.get(url, timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        deadline = time.monotonic() + 30  # its children (worker pool, agent, server) leave with it
        while time.monotonic() < deadline:
            if not group_alive(self.process.pid):
                return
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    @property
    def token(self) -> str:
        return (self.var / "demo-token").read_text().strip()

    def get(self, path: str):
        response = requests.get(f"{self.url}{path}", headers={"Authorization": f"Token {self.token}"}, timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def document(self, document: Path, heading: str) -> str:
        return sh_blocks(document, heading).replace(DEMO_URL, self.url)

    def walk(self, document: Path, heading: str, folder: str, names: tuple[str, ...], value: str = r"\S+"):
        """Run a document's section as written, in a folder of its own; (its output, the shell
        variables `names` as they stand at its end, each matching `value`)."""
        script = self.document(document, heading)
        formats = " %s" * len(names)
        values = " ".join(f'"${name}"' for name in names)
        script += f'\nprintf "RESULT{formats}\\n" {values}\n'
        workdir = self.root / folder
        workdir.mkdir()
        result = bash(script, cwd=workdir, env=plain_env())
        assert result.returncode == 0, explain(result, self.var / "log")
        found = re.search(rf"^RESULT{f' ({value})' * len(names)}$", result.stdout, flags=re.MULTILINE)
        assert found, explain(result, self.var / "log")
        return result.stdout, found.groups()


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    system = MakeRun(tmp_path_factory.mktemp("make-run"))
    try:
        system.start()
        yield system
    finally:
        system.stop()


def test_readme_api_in_five_minutes(make_run):
    """Pasted whole: the CUID look-up finds the demo researcher, and the order reaches done by polling."""
    script = make_run.document(REPO / "README.md", "## The API in five minutes")
    assert not re.search(r"<[a-z ]+>", script), "placeholders left to fill in by hand"
    result = bash(script, cwd=make_run.root, env=plain_env())
    assert result.returncode == 0, explain(result, make_run.var / "log")

    done = re.search(r"^order ([0-9a-f-]{36}): (\S+)$", result.stdout, flags=re.MULTILINE)
    assert done and done.group(2) == "done", explain(result, make_run.var / "log")
    order = make_run.get(f"/api/marketplace-orders/{done.group(1)}/")
    assert order["state"] == "done"
    resource = make_run.get(f"/api/marketplace-resources/{order['marketplace_resource_uuid']}/")
    assert resource["state"] == "OK" and resource["backend_id"]
    (climate,) = make_run.get("/api/projects/?name_exact=Climate")
    members = make_run.get(f"/api/projects/{climate['uuid']}/list_users/")
    assert [(m["user_username"], m["role"]) for m in members] == [("researcher", "PROJECT.MEMBER")]


def test_docs_marketplace_walkthrough_runs_against_make_run(make_run):
    """docs/marketplace.md as written, with the demo's allocator and provider-owner accounts."""
    out, (order_uuid, resource_uuid) = make_run.walk(
        REPO / "docs" / "marketplace.md",
        "## Allocator walk-through",
        "allocator",
        ("ORDER_UUID", "RESOURCE_UUID"),
        UUID,
    )
    order = make_run.get(f"/api/marketplace-orders/{order_uuid}/")
    resource = make_run.get(f"/api/marketplace-resources/{resource_uuid}/")
    assert (order["state"], order["offering_name"]) == ("done", "HPC allocation")
    assert (resource["state"], resource["backend_id"]) == ("Terminated", "hpc_climate_cpu")
    assert resource["limits"] == {"cpu_k_hours": 250, "storage_tb": 2}
    assert '"Terminated"\nRESULT' in out  # what the last step prints


def test_docs_usage_walkthrough_runs_against_make_run(make_run):
    """docs/usage.md's month of usage, cost, invoice and report, as written, against what the demo agent reports."""
    out, (resource_uuid, invoice_uuid) = make_run.walk(
        REPO / "docs" / "usage.md",
        "## Allocator walk-through: a month's usage, cost, invoice and report",
        "usage",
        ("RESOURCE_UUID", "INVOICE_UUID"),
        UUID,
    )
    assert "cpu_k_hours: 100 of 400 since start, 25 %" in out, out
    assert "storage_tb: 0.5 of 2 since start, 25 %" in out, out
    items = {
        item["component_type"]: item for item in make_run.get(f"/api/invoice-items/?resource_uuid={resource_uuid}")
    }
    assert {t: (Decimal(i["quantity"]), Decimal(i["price"])) for t, i in items.items()} == {
        "cpu_k_hours": (Decimal(400), Decimal(4000)),
        "storage_tb": (Decimal(2), Decimal(10)),
    }
    invoice = make_run.get(f"/api/invoices/{invoice_uuid}/")
    assert (invoice["state"], invoice["customer_name"]) == ("pending", "Demo University")
    assert Decimal(invoice["total"]) >= Decimal(4010)  # this resource's lines, and any other of the customer's
    assert f"invoice {invoice['year']}-{invoice['month']} of Demo University: pending, total {invoice['total']}" in out
    lines = [line for line in out.splitlines() if line.startswith("group,") or ",Ocean models," in line]
    assert lines[0] == "group,group_name,month,component_type,usage,limit,cost,utilisation"
    rows = {row.split(",")[3]: row.split(",") for row in lines[1:]}
    assert (rows["cpu_k_hours"][4], Decimal(rows["cpu_k_hours"][6])) == ("100", Decimal(4000)), lines
    assert (rows["storage_tb"][4], Decimal(rows["storage_tb"][6])) == ("0.5", Decimal(10)), lines


def test_docs_shares_walkthrough_runs_against_make_run(make_run):
    """docs/shares.md: a share granted and divided, an order refused and one placed against it, a policy
    pausing the allocation at the demo agent when its usage arrives, and a raised limit resuming it."""
    out, (resource_url, policy_url) = make_run.walk(
        REPO / "docs" / "shares.md",
        "## Allocator walk-through: a share, a policy, a pause",
        "shares",
        ("RESOURCE_URL", "POLICY_URL"),
    )
    assert re.search(r"^project share: 500 from \d{4}-01-01 to \d{4}-12-31, 500 left$", out, re.MULTILINE), out
    assert re.search(r"^600 k-hours: 409 .*Only 500 k-hours of cpu_k_hours is left", out, re.MULTILINE), out
    assert re.search(r"^400 k-hours: 201$", out, re.MULTILINE), out
    assert out.count("paused: true") == 1 and out.count("paused: false") == 1, out
    assert out.index("paused: true") < out.index("paused: false")
    assert "fired at 100 %: 100 of 80" in out and "fired at 80 %: 100 of 80" in out, out
    assert "project share: 400 allocated, 100 used, 100 left" in out, out
    resource = make_run.get(resource_url.removeprefix(make_run.url))
    assert (resource["state"], resource["paused"], resource["limits"]["cpu_k_hours"]) == ("OK", False, 400)
    firings = make_run.get(policy_url.removeprefix(make_run.url) + "firings/")
    assert len(firings) == 2 and all(not firing["active"] for firing in firings), firings


def _portal_login(url: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{url}/login/", timeout=30).raise_for_status()
    response = session.post(
        f"{url}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302 and response.headers["Location"] == "/", (username, response.status_code)
    return session


def test_readme_accounts_and_manage_py(make_run):
    """The README's manage.py commands work as written next to `make run`; the accounts log into the portal."""
    env = plain_env(FEDERATION_VAR_DIR=str(make_run.var))
    bare = subprocess.run(
        [".venv/bin/python", "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert bare.returncode != 0 and "SECRET_KEY is not set" in bare.stderr  # what the README warns of

    script = make_run.document(REPO / "README.md", "## Accounts, the portal and `manage.py`")
    result = bash(script, cwd=REPO, env=env)
    assert result.returncode == 0, explain(result, make_run.var / "log")

    logins = {
        "alice": "pick-a-long-password",
        "bob": "another-long-password",
        **{name: DEMO_PASSWORD for name in ("demo-staff", "allocator", "researcher", "provider-owner")},
    }
    for username, password in logins.items():
        home = _portal_login(make_run.url, username, password).get(f"{make_run.url}/", timeout=30)
        assert home.status_code == 200 and "/logout/" in home.text, username
    admin = _portal_login(make_run.url, "demo-staff", DEMO_PASSWORD).get(f"{make_run.url}/admin/", timeout=30)
    assert admin.status_code == 200 and admin.url == f"{make_run.url}/admin/"


def test_banner_points_at_readable_pages(make_run):
    """Every address the start-up banner names opens in a browser without credentials."""
    banner = make_run.output.read_text()
    lines = [line for line in banner.splitlines() if line.startswith(("Portal:", "API:"))]
    assert len(lines) == 2, banner
    urls = {url.rstrip(");,") for line in lines for url in re.findall(r"http://\S+", line)}
    assert f"{make_run.url}/api/docs/" in urls
    for url in urls:
        assert requests.get(url, timeout=30).status_code == 200, url


def test_everything_make_run_writes_stays_under_var(make_run):
    """The file broker's exchange tables live in var/broker/control, not in a `control/` of the checkout."""
    control = make_run.var / "broker" / "control"
    deadline = time.monotonic() + 120  # written when the worker binds its queues
    while not list(control.glob("*.exchange")):
        assert time.monotonic() < deadline, f"no exchange tables in {control}"
        time.sleep(0.5)
    assert make_run.control_existed or not (REPO / "control").exists()


def test_an_account_is_connected_at_the_demo_provider_and_back(make_run):
    """The portal's "Accounts at providers" round trip under `make run`: the demo agent's confirmation page,
    its signed confirmation to the orchestrator, and the browser sent back to the portal page."""
    session = _portal_login(make_run.url, "demo-staff", DEMO_PASSWORD)
    accounts = f"{make_run.url}/accounts/providers/"
    assert 'id="provider-demo"' in session.get(accounts, timeout=30).text
    forward = session.post(
        f"{accounts}demo/connect/",
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": accounts},
        timeout=30,
    )
    assert forward.status_code == 200, forward.text[-2000:]
    link = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', forward.text).group(1)
    assert link.startswith(f"http://127.0.0.1:{make_run.agent_port}/connect/")
    assert "Local username" in requests.get(link, timeout=30).text
    done = requests.post(link, data={"username": "demostaff"}, allow_redirects=False, timeout=30)
    assert done.status_code == 303 and done.headers["Location"] == f"{accounts}?connected=demo", done.text
    back = session.get(done.headers["Location"], timeout=30).text
    assert "Your account at Demo site is connected as <strong>demostaff</strong>." in back


def test_services_script_checks_and_names_test_database_url():
    """scripts/services.sh checks the PostgreSQL the tests will use, and its message names TEST_DATABASE_URL."""
    env = plain_env(TEST_DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere")
    missing = subprocess.run(
        ["bash", "scripts/services.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert "set TEST_DATABASE_URL to a reachable server" in missing.stderr
    assert "or set DATABASE_URL" not in missing.stderr

    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        reachable = subprocess.run(
            ["bash", "scripts/services.sh"],
            cwd=REPO,
            env=plain_env(TEST_DATABASE_URL=database_url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert reachable.returncode == 0, reachable.stdout + reachable.stderr
