"""The single-node Slurm test cluster (scripts/slurm-cluster.sh) and how tests read what Slurm holds.

The `slurm_cluster` fixture (tests/conftest.py) starts the cluster. When it cannot, the tests that
use it fail with the script's message under CI (or FEDERATION_REQUIRE_SLURM=1) and are skipped
with that message elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from site_agent.backends.slurm_runner import parse_tres

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "slurm-cluster.sh"
STATE_DIR = Path(os.environ.get("FEDERATION_SLURM_STATE_DIR", "/var/lib/federation-slurm-test"))
CLUSTER = os.environ.get("FEDERATION_SLURM_CLUSTER", "federation")
USERS = ("fedslurm1", "fedslurm2")
ASSOC_FORMAT = "format=Cluster,Account,User,ParentName,GrpTRESMins,GrpSubmitJobs"


def _require_slurm() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("FEDERATION_REQUIRE_SLURM") == "1"


def unavailable(reason: str):
    """Fail under CI (the cluster is required there), skip with the reason elsewhere."""
    if _require_slurm():
        pytest.fail(f"the Slurm test cluster is required here: {reason}", pytrace=False)
    pytest.skip(f"no Slurm test cluster: {reason}")


def start_cluster() -> None:
    """Start (or reuse) the test cluster and create its Linux users; `unavailable` when it cannot run."""
    if os.name != "posix" or os.geteuid() != 0:
        unavailable("starting the test cluster needs root")
    try:
        started = subprocess.run(
            ["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        unavailable(f"{SCRIPT} start: {exc}")
    if started.returncode != 0:
        unavailable(f"{SCRIPT} start exited {started.returncode}:\n{started.stderr[-4000:]}")
    for user in USERS:
        if subprocess.run(["id", user], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", user], check=True)


def slurm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=check)


def assoc_rows(account: str = "") -> list[list[str]]:
    where = ["where", f"account={account}"] if account else []
    out = slurm("sacctmgr", "-n", "-P", "show", "associations", *where, ASSOC_FORMAT).stdout
    return [line.split("|") for line in out.splitlines() if line]


def snapshot() -> str:
    """Everything the backend could change in slurmdbd, as text to compare."""
    assoc = slurm("sacctmgr", "-n", "-P", "show", "associations", ASSOC_FORMAT).stdout
    accounts = slurm("sacctmgr", "-n", "-P", "show", "account", "format=Account,Descr,Org").stdout
    users = slurm("sacctmgr", "-n", "-P", "show", "user", "format=User,DefaultAccount").stdout
    return "\n".join(sorted(assoc.splitlines()) + sorted(accounts.splitlines()) + sorted(users.splitlines()))


def account_row(account: str) -> list[str] | None:
    rows = [r for r in assoc_rows(account) if r[2] == ""]
    return rows[0] if rows else None


def sbatch(user: str, account: str, seconds: int = 2) -> subprocess.CompletedProcess:
    return slurm(
        "runuser", "-u", user, "--", "sbatch", "--parsable", f"--account={account}", "--chdir=/tmp",
        "--output=/dev/null", "--time=1", "--wrap", f"sleep {seconds}",
        check=False,
    )  # fmt: skip


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def job_state(job_id: str) -> str:
    out = slurm("sacct", "-X", "-n", "-P", "-j", job_id, "--format=State", check=False).stdout.split()
    return out[0] if out else ""


def pending_reason(job_id: str) -> str:
    return slurm("squeue", "-h", "-j", job_id, "-o", "%T|%r", check=False).stdout.strip()


def sacct_cpu_minutes(account: str, month: date, state: str = "") -> dict[str, float]:
    """What sacct says, computed here independently: per user, AllocTRES cpu × ElapsedRaw / 60."""
    end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    out = slurm(
        "sacct", "-X", "-a", "-n", "-P", "-T", "-A", account, "-S", f"{month}T00:00:00", "-E", f"{end}T00:00:00",
        *([f"--state={state}"] if state else []), "--format=User,AllocTRES,ElapsedRaw",
    ).stdout  # fmt: skip
    minutes: dict[str, float] = {}
    for line in out.splitlines():
        user, tres, elapsed = line.split("|")
        minutes[user] = minutes.get(user, 0.0) + parse_tres(tres).get("cpu", 0) * int(elapsed) / 60
    return minutes


def default_account(user: str) -> str:
    rows = slurm("sacctmgr", "-n", "-P", "show", "user", user, "format=DefaultAccount").stdout.split()
    return rows[0] if rows else ""


GRP_SUBMIT_JOBS = 5  # the column of ASSOC_FORMAT


def submitted_job_id(submitted: subprocess.CompletedProcess) -> str:
    """The id `sbatch --parsable` printed; the submission must have been accepted."""
    assert submitted.returncode == 0, submitted.stderr
    return submitted.stdout.strip().split(";")[0]


def remove_accounts(account: str, prefixes: tuple[str, ...]) -> None:
    """Leave the shared cluster as it was: cancel the account's jobs, then remove the accounts whose
    names start with the test's own prefixes, children (allocations) before parents."""
    slurm("scancel", f"--account={account}", check=False)
    names = slurm("sacctmgr", "-n", "-P", "show", "account", "format=Account").stdout.split()
    for prefix in prefixes:
        for name in (n for n in names if n.startswith(prefix)):
            slurm("sacctmgr", "-i", "remove", "user", "where", f"account={name}", check=False)
            slurm("sacctmgr", "-i", "remove", "account", name, check=False)
