"""The real waldur-site-agent (PyPI 1.0.7, with its Slurm plugin) in a venv of its own, run as a process.

The venv lives under FEDERATION_VAR_DIR and is reused when present; creating it needs the package
index. `AgentProcess` writes the agent's config for one offering and runs its console script
(`waldur_site_agent -m <mode> -c config.yaml`); every wait is bounded and `stop()` ends the process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from federation import services as structure
from federation.models import RoleName
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, agent_offering, grant
from tests.slurm import assoc_rows, remove_accounts

AGENT_VERSION = "1.0.7"
PACKAGES = (f"waldur-site-agent=={AGENT_VERSION}", f"waldur-site-agent-slurm=={AGENT_VERSION}")


def agent_venv() -> Path:
    """The agent's venv, created on first use; the test is skipped (failed under CI) when it cannot be."""
    var = Path(os.environ.get("FEDERATION_VAR_DIR", "var"))
    venv = var / "waldur-agent-venv"
    script = venv / "bin" / "waldur_site_agent"
    if script.exists():
        return venv
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", *PACKAGES], check=True, capture_output=True, timeout=900
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        message = f"cannot install {' '.join(PACKAGES)}: {exc} {detail.decode(errors='replace')[-2000:]}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return venv


def agent_config(*, api_url: str, token: str, offering_uuid: str, prefix: str) -> dict:
    """One offering, the Slurm plugin on the local cluster, accounts named `<prefix>c_`, `p_`, `a_`."""
    return {
        "timezone": "UTC",
        "log_level": "DEBUG",
        "reporting_periods": 1,
        "offerings": [
            {
                "name": "hpc",
                "waldur_api_url": api_url,
                "waldur_api_token": token,
                "waldur_offering_uuid": offering_uuid,
                "backend_type": "slurm",
                "order_processing_backend": "slurm",
                "membership_sync_backend": "slurm",
                "reporting_backend": "slurm",
                "verify_ssl": False,
                "stomp_enabled": False,
                "backend_settings": {
                    "default_account": "root",
                    # Each user's DefaultAccount is the allocation's own account: the plugin's "common" policy
                    # would set it to `root`, which gives every test user an association under root and
                    # changes where Slurm moves a user's default when an allocation goes.
                    "default_account_policy": "individual",
                    "customer_prefix": f"{prefix}c_",
                    "project_prefix": f"{prefix}p_",
                    "allocation_prefix": f"{prefix}a_",
                    "slurm_bin_path": "/usr/bin",
                    "enable_user_homedir_account_creation": False,
                },
                "backend_components": {
                    "cpu": {
                        "measured_unit": "k-Hours",
                        "unit_factor": 60000,
                        "accounting_type": "limit",
                        "label": "CPU",
                    },
                },
            }
        ],
    }


class AgentProcess:
    def __init__(self, venv: Path, workdir: Path, config: dict, name: str = "agent"):
        self.venv, self.workdir = venv, workdir
        self.config_path = workdir / f"waldur-{name}.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = workdir / f"waldur-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, mode: str) -> AgentProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(self.venv / "bin" / "waldur_site_agent"), "-m", mode, "-c", str(self.config_path)],
            cwd=self.workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_log(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"the agent exited ({self.process.returncode}):\n{self.log()[-6000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in the agent's log within {timeout}s:\n{self.log()[-6000:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        if getattr(self, "_log", None):
            self._log.close()


def slurm_site(live_server, *, prefix: str, name: str, agent_username: str, manager_username: str) -> dict:
    """A provider organisation whose service account (an owner) runs the agent, one offering of it, and
    a project (slug `genomics` of `research-org`) managed by `manager_username`; with the agent's config
    for the accounts `<prefix>c_`, `p_`, `a_`, which are removed from the cluster first."""
    provider_org = CustomerFactory(name=name, slug=name.lower().replace(" ", "-"))
    service_account = UserFactory(username=agent_username)
    grant(service_account, provider_org, RoleName.CUSTOMER_OWNER)
    project = ProjectFactory(name="Genomics", slug="genomics", customer=CustomerFactory(slug="research-org"))
    manager = UserFactory(username=manager_username)
    grant(manager, project, RoleName.PROJECT_MANAGER)
    offering = agent_offering(customer=provider_org, name=f"HPC of {name}", auto_approve=False)
    config = agent_config(
        api_url=f"{live_server.url}/api/",
        token=structure.token_issue(user=service_account),
        offering_uuid=offering.uuid.hex,
        prefix=prefix,
    )
    remove_prefixed_accounts(prefix)
    return {
        "url": live_server.url,
        "offering": offering,
        "project": project,
        "manager": manager,
        "manager_token": structure.token_issue(user=manager),
        "config": config,
    }


def remove_prefixed_accounts(prefix: str) -> None:
    """Every Slurm account the agent made with these prefixes, children before parents."""
    prefixes = (f"{prefix}a_", f"{prefix}p_", f"{prefix}c_")
    for account in {row[1] for row in assoc_rows() if row[1].startswith(prefixes)}:
        remove_accounts(account, prefixes)


def place_order(site: dict, *, cpu: int, name: str = "Sequencing") -> dict:
    """A create order of the site's offering, placed by the project's manager through the API."""
    url, offering = site["url"], site["offering"]
    answer = requests.post(
        f"{url}/api/marketplace-orders/",
        headers={"Authorization": f"Token {site['manager_token']}"},
        json={
            "project": f"{url}/api/projects/{site['project'].uuid}/",
            "offering": f"{url}/api/marketplace-public-offerings/{offering.uuid}/",
            "plan": f"{url}/api/marketplace-plans/{offering.plans.get().uuid}/",
            "attributes": {"name": name},
            "limits": {"cpu": cpu},
        },
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["state"] == "pending-provider"
    return answer.json()
