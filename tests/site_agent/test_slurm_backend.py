"""The slurm backend against a real single-node Slurm with slurmdbd (scripts/slurm-cluster.sh).

The `slurm_cluster` fixture (tests/conftest.py) starts the test cluster. When it cannot, the tests
fail with the script's message under CI (or FEDERATION_REQUIRE_SLURM=1) and are skipped with that
message elsewhere. No test touches the Django database.
"""

from __future__ import annotations

import stat
import uuid
from datetime import date

import pytest

from site_agent.backends.base import Allocation, BackendError, Member, UsageReport
from site_agent.backends.slurm import ACCOUNT_NAME_MAX, SlurmBackend, slurm_name
from site_agent.backends.slurm_runner import SlurmRunner, parse_tres
from tests.slurm import (
    CLUSTER,
    USERS,
    account_row,
    assoc_rows,
    default_account,
    job_state,
    pending_reason,
    sacct_cpu_minutes,
    sbatch,
    slurm,
    snapshot,
    wait_until,
)

pytestmark = pytest.mark.slurm

COMPONENTS = {
    "cpu_k_hours": {"tres": "cpu", "unit_factor": 60000},
    "node_hours": {"tres": "node", "unit_factor": 60},
}


# -- fixtures and helpers ------------------------------------------------------------------------


def _config(**overrides) -> dict:
    config = {
        "cluster_name": CLUSTER,
        "customer_prefix": "tc_",
        "project_prefix": "tp_",
        "allocation_prefix": "ta_",
        "components": COMPONENTS,
        "command_timeout": 30,
    }
    return {**config, **overrides}


@pytest.fixture
def backend(slurm_cluster) -> SlurmBackend:
    return SlurmBackend(_config())


def _allocation(limits=None, members=USERS[:1], slug="hpc", **fields) -> Allocation:
    values = {
        "resource_uuid": uuid.uuid4().hex,
        "slug": slug,
        "customer_uuid": uuid.uuid4().hex,
        "customer_slug": "uni",
        "project_uuid": uuid.uuid4().hex,
        "project_slug": "climate",
        "offering_type": "slurm",
        "limits": {"cpu_k_hours": 1, "node_hours": 10} if limits is None else limits,
        "attributes": {},
        "members": tuple(Member(username=u, role="PROJECT.MEMBER") for u in members),
    }
    return Allocation(**{**values, **fields})


@pytest.fixture
def cleanup(slurm_cluster):
    """Allocations registered here are terminated after the test, whatever it left behind."""
    made: list[tuple[SlurmBackend, Allocation]] = []
    yield lambda backend, allocation: made.append((backend, allocation))
    for backend, allocation in made:
        SlurmBackend({**backend.config, "soft_delete": False, "dry_run": False}).terminate(allocation)


# -- without the cluster -------------------------------------------------------------------------


def test_account_names_are_safe_bounded_and_deterministic():
    name = slurm_name("ta_", "Weird Name/with ÜMLAUTS & a very long tail " * 3, "ABCDEF12-3456")
    assert name == slurm_name("ta_", "Weird Name/with ÜMLAUTS & a very long tail " * 3, "ABCDEF12-3456")
    assert len(name) <= ACCOUNT_NAME_MAX
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-")
    assert name.startswith("ta_weird-name-with-")
    assert name.endswith("-abcdef")
    assert slurm_name("ta_", "hpc", "1" * 32) != slurm_name("ta_", "hpc", "2" * 32)


def test_manifest_lists_the_configured_components():
    manifest = SlurmBackend(_config()).describe_manifest()
    assert manifest["components"] == ["cpu_k_hours", "node_hours"]
    assert manifest["features"]["compute"]["docker"] == {"enabled": False}
    assert manifest["features"]["compute"]["virtualMachine"] == {"enabled": False}
    assert manifest["features"]["storage"] == {"enabled": False}
    assert manifest["offering_types"] == ["SlurmInvoices.SlurmPackage", "slurm"]


def test_runner_gives_up_after_its_timeout(tmp_path):
    fake = tmp_path / "sacctmgr"
    fake.write_text("#!/bin/sh\nsleep 5\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    runner = SlurmRunner(timeout=0.3, bin_dir=str(tmp_path))
    with pytest.raises(BackendError, match="no answer within 0.3 s"):
        runner.run(["sacctmgr", "show", "account"])


def test_a_negative_limit_never_reaches_slurm():
    backend = SlurmBackend(_config(dry_run=True))
    with pytest.raises(BackendError, match="must be a number >= 0"):
        backend.update_limits(_allocation(), {"cpu_k_hours": -1})  # Slurm would read -1 as "no limit"
    assert backend.runner.planned == []


def test_runner_adds_the_flags_each_command_needs():
    runner = SlurmRunner()
    assert runner.command_line(["sacctmgr", "show", "account"]) == (
        "sacctmgr", "--immediate", "--parsable2", "--noheader", "show", "account",
    )  # fmt: skip
    assert runner.command_line(["sacct", "-X"]) == ("sacct", "--parsable2", "--noheader", "-X")
    assert runner.command_line(["scancel", "--account=a"]) == ("scancel", "--account=a")


# -- against the cluster -------------------------------------------------------------------------


def test_create_builds_the_hierarchy_with_limits_and_members(backend, cleanup):
    allocation = _allocation(members=USERS)
    cleanup(backend, allocation)

    account = backend.create(allocation)

    names = backend.account_names(allocation)
    assert account == names.allocation
    assert account.startswith("ta_hpc-") and len(account) <= ACCOUNT_NAME_MAX
    cluster, _, user, parent, grp_tres_mins, _ = account_row(account)
    assert (cluster, user, parent) == (CLUSTER, "", names.project)
    assert parse_tres(grp_tres_mins) == {"cpu": 60000, "node": 600}
    assert account_row(names.project)[3] == names.customer
    assert account_row(names.customer)[3] == "root"
    assert sorted(r[2] for r in assoc_rows(account) if r[2]) == sorted(USERS)


def test_job_usage_limits_and_pending_reason(backend, cleanup):
    allocation = _allocation()
    cleanup(backend, allocation)
    account = backend.create(allocation)
    month = date.today().replace(day=1)

    submitted = sbatch(USERS[0], account, seconds=2)
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().split(";")[0]
    # slurmdbd records the job's eligible time a moment after its end; until then a query by
    # time window (as the backend's) does not see the job, though `sacct -j` already does.
    assert wait_until(lambda: sacct_cpu_minutes(account, month, state="COMPLETED")), job_state(job)

    reports = backend.report_usage(allocation, month)
    by_sacct = sacct_cpu_minutes(account, month)
    total = {r.component_type: r.amount for r in reports if not r.username}
    assert total["cpu_k_hours"] > 0
    assert total["cpu_k_hours"] == pytest.approx(sum(by_sacct.values()) / 60000)
    assert total["node_hours"] > 0
    assert UsageReport("cpu_k_hours", pytest.approx(by_sacct[USERS[0]] / 60000), USERS[0]) in reports

    backend.update_limits(allocation, {"cpu_k_hours": 2, "node_hours": 5})
    assert parse_tres(account_row(account)[4]) == {"cpu": 120000, "node": 300}

    # A limit below what was used: the next job waits on the association's CPU-minutes limit.
    backend.update_limits(allocation, {"cpu_k_hours": 0})
    submitted = sbatch(USERS[0], account, seconds=1)
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().split(";")[0]
    try:
        reason = wait_until(lambda: "AssocGrpCPUMinutesLimit" in pending_reason(job), timeout=15)
        assert reason, pending_reason(job)
        assert pending_reason(job).startswith("PENDING|")
    finally:
        slurm("scancel", job, check=False)


def test_pause_rejects_submissions_and_resume_accepts_them(backend, cleanup):
    allocation = _allocation()
    cleanup(backend, allocation)
    account = backend.create(allocation)

    backend.pause(allocation)
    assert account_row(account)[5] == "0"
    refused = sbatch(USERS[0], account)
    assert refused.returncode != 0
    assert "AssocGrpSubmitJobsLimit" in refused.stderr or "policy" in refused.stderr

    backend.resume(allocation)
    assert account_row(account)[5] == ""
    accepted = sbatch(USERS[0], account, seconds=1)
    assert accepted.returncode == 0, accepted.stderr
    slurm("scancel", accepted.stdout.strip().split(";")[0], check=False)


def test_add_and_remove_user(backend, cleanup):
    allocation = _allocation(members=())
    cleanup(backend, allocation)
    account = backend.create(allocation)
    assert [r for r in assoc_rows(account) if r[2]] == []

    backend.add_user(allocation, USERS[1])
    backend.add_user(allocation, USERS[1])
    assert [r[2] for r in assoc_rows(account) if r[2]] == [USERS[1]]

    backend.remove_user(allocation, USERS[1])
    backend.remove_user(allocation, USERS[1])
    assert [r for r in assoc_rows(account) if r[2]] == []
    refused = sbatch(USERS[1], account)
    assert refused.returncode != 0


def test_removing_a_users_default_account_moves_the_default(backend, cleanup):
    staying, leaving = USERS
    first = _allocation(members=USERS)
    second = _allocation(slug="second", members=(staying,))
    third = _allocation(slug="third", members=(staying,))
    for allocation in (first, second, third):
        cleanup(backend, allocation)
        backend.create(allocation)
    accounts = [backend.account_names(a).allocation for a in (first, second, third)]
    slurm("sacctmgr", "-i", "modify", "user", "where", f"name={staying}", "set", f"DefaultAccount={accounts[0]}")

    # One user keeps other associations, the other leaves Slurm entirely: slurmdbd refuses that
    # mix in one request, and refuses to drop a default account the user still needs.
    backend.terminate(first)
    assert default_account(staying) == accounts[1]
    assert default_account(leaving) == ""

    backend.remove_user(second, staying)
    assert default_account(staying) == accounts[2]
    assert [r[1] for r in assoc_rows() if r[2] == staying] == [accounts[2]]


def test_terminate_removes_the_account_and_refuses_jobs(backend, cleanup):
    allocation = _allocation()
    cleanup(backend, allocation)
    account = backend.create(allocation)
    names = backend.account_names(allocation)
    running = sbatch(USERS[0], account, seconds=30)
    assert running.returncode == 0, running.stderr

    backend.terminate(allocation)

    assert assoc_rows(account) == []
    assert assoc_rows(names.project) == [] and assoc_rows(names.customer) == []
    refused = sbatch(USERS[0], account)
    assert refused.returncode != 0
    assert "Invalid account" in refused.stderr
    assert job_state(running.stdout.strip().split(";")[0]) in {"CANCELLED", "CANCELLED+"}


def test_terminate_keeps_the_project_account_while_it_holds_other_allocations(backend, cleanup):
    first = _allocation()
    second = _allocation(slug="gpu", customer_uuid=first.customer_uuid, project_uuid=first.project_uuid)
    cleanup(backend, first)
    cleanup(backend, second)
    backend.create(first)
    backend.create(second)

    backend.terminate(first)

    names = backend.account_names(second)
    assert account_row(names.allocation) is not None
    assert account_row(names.project)[3] == names.customer


def test_soft_delete_zeroes_the_limits_and_keeps_the_account(slurm_cluster, cleanup):
    backend = SlurmBackend(_config(soft_delete=True))
    allocation = _allocation()
    cleanup(backend, allocation)
    account = backend.create(allocation)

    backend.terminate(allocation)

    row = account_row(account)
    assert parse_tres(row[4]) == {"cpu": 0, "node": 0}
    assert row[5] == "0"
    assert sbatch(USERS[0], account).returncode != 0


def test_repeating_orders_changes_nothing(backend, cleanup):
    allocation = _allocation(members=USERS)
    cleanup(backend, allocation)

    backend.create(allocation)
    before = snapshot()
    assert backend.create(allocation) == backend.account_names(allocation).allocation
    assert snapshot() == before

    backend.update_limits(allocation, {"cpu_k_hours": 3})
    before = snapshot()
    backend.update_limits(allocation, {"cpu_k_hours": 3})
    assert snapshot() == before

    backend.terminate(allocation)
    before = snapshot()
    backend.terminate(allocation)
    assert snapshot() == before


def test_sacctmgr_failure_raises_with_slurms_message(slurm_cluster, cleanup):
    config = _config(components={"gpu_hours": {"tres": "gres/nosuchgpu", "unit_factor": 60}})
    backend = SlurmBackend(config)
    allocation = _allocation(limits={"gpu_hours": 5})
    cleanup(backend, allocation)

    with pytest.raises(BackendError, match="no TRES known by type gres/nosuchgpu"):
        backend.create(allocation)

    with pytest.raises(BackendError, match="does not exist"):
        SlurmBackend(_config()).update_limits(_allocation(), {"cpu_k_hours": 1})


def test_create_refuses_to_adopt_an_account_under_another_parent(backend, cleanup):
    allocation = _allocation()
    cleanup(backend, allocation)
    taken = backend.account_names(allocation).allocation
    slurm("sacctmgr", "-i", "add", "account", taken, "parent=root", f"cluster={CLUSTER}")
    try:
        with pytest.raises(BackendError, match="already exists under root"):
            backend.create(allocation)
    finally:
        slurm("sacctmgr", "-i", "remove", "account", taken, check=False)


def test_dry_run_runs_nothing(slurm_cluster):
    backend = SlurmBackend(_config(dry_run=True))
    allocation = _allocation()
    before = snapshot()

    account = backend.create(allocation)
    backend.update_limits(allocation, {"cpu_k_hours": 5})
    backend.pause(allocation)
    backend.terminate(allocation)
    usage = backend.report_usage(allocation, date.today().replace(day=1))

    assert snapshot() == before
    assert usage == [UsageReport("cpu_k_hours", 0.0), UsageReport("node_hours", 0.0)]
    planned = [" ".join(argv) for argv in backend.runner.planned]
    assert any(f"add account {account} " in line for line in planned)
    assert any("GrpTRESMins=cpu=300000" in line for line in planned)


def test_diff_reports_what_differs(slurm_cluster, cleanup):
    backend = SlurmBackend(_config(customer_prefix="dc_", project_prefix="dp_", allocation_prefix="da_"))
    kept = _allocation(members=USERS)
    stray = _allocation(slug="stray", customer_uuid=kept.customer_uuid, project_uuid=kept.project_uuid)
    never_made = _allocation(slug="ghost", customer_uuid=kept.customer_uuid, project_uuid=kept.project_uuid)
    for allocation in (kept, stray, never_made):
        cleanup(backend, allocation)
    account = backend.create(kept)
    backend.create(stray)
    assert backend.diff([kept, stray]).clean

    slurm("sacctmgr", "-i", "modify", "account", "where", f"name={account}", "set", "GrpTRESMins=cpu=5")
    slurm("sacctmgr", "-i", "remove", "user", "where", f"name={USERS[1]}", f"account={account}")
    diff = backend.diff([kept, never_made])

    assert [(m.account, m.tres, m.expected, m.actual) for m in diff.limit_mismatches] == [(account, "cpu", 60000, 5)]
    assert diff.missing_users == [(account, USERS[1])]
    assert diff.unexpected_users == []
    assert diff.missing_accounts == [backend.account_names(never_made).allocation]
    assert diff.unexpected_accounts == [backend.account_names(stray).allocation]
    assert not diff.clean


def test_every_account_of_the_module_is_gone(slurm_cluster):
    """Runs last: the cleanups left nothing under the test prefixes (files run top to bottom)."""
    leftovers = [r[1] for r in assoc_rows() if r[1].startswith(("tc_", "tp_", "ta_", "dc_", "dp_", "da_"))]
    assert leftovers == []
