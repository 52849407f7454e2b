"""The slurm backend: allocations become Slurm accounts with GrpTRESMins limits in slurmdbd.

Each allocation gets an account under its project's account, which sits under its customer's
account (customer -> project -> allocation, all below root). The allocation's limits are the
account's GrpTRESMins; members with a username get a user association on it; usage is read back
from sacct. Every step is idempotent: it states the outcome it wants and treats "already so" as
success, so the agent can repeat any order safely.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import time
from collections.abc import Iterable
from datetime import date

from site_agent.backends.base import Allocation, Backend, BackendError, UsageReport
from site_agent.backends.slurm_runner import SlurmRunner, format_tres, parse_tres

logger = logging.getLogger(__name__)

# slurmdbd keys account names on their first 42 characters (acct_table's primary key is name(42)),
# so longer names could silently collide.
ACCOUNT_NAME_MAX = 42
_UNSAFE = re.compile(r"[^a-z0-9_-]+")

DEFAULTS: dict = {
    "cluster_name": "",
    "customer_prefix": "cust_",
    "project_prefix": "proj_",
    "allocation_prefix": "alloc_",
    "components": {"cpu_k_hours": {"tres": "cpu", "unit_factor": 60000}},
    "soft_delete": False,
    "dry_run": False,
    "command_timeout": 60,
    "bin_dir": "",
}

# How long to keep retrying a removal that Slurm refuses because cancelled jobs are still ending.
_ACTIVE_JOBS_WAIT = 15.0


@dataclasses.dataclass(frozen=True)
class Component:
    type: str  # the offering's component type, e.g. cpu_k_hours
    tres: str  # the Slurm TRES it limits, e.g. cpu, mem, gres/gpu
    unit_factor: float  # TRES minutes in one unit of the component


@dataclasses.dataclass(frozen=True)
class AccountNames:
    customer: str
    project: str
    allocation: str


@dataclasses.dataclass(frozen=True)
class LimitMismatch:
    account: str
    tres: str
    expected: int | None
    actual: int | None


@dataclasses.dataclass
class SlurmDiff:
    """What the cluster has against what the agent believes it has."""

    missing_accounts: list[str] = dataclasses.field(default_factory=list)
    unexpected_accounts: list[str] = dataclasses.field(default_factory=list)
    limit_mismatches: list[LimitMismatch] = dataclasses.field(default_factory=list)
    missing_users: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (account, user)
    unexpected_users: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not any(dataclasses.astuple(self))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class _Association:
    account: str
    user: str
    parent: str
    grp_tres_mins: dict[str, float]


def slurm_name(prefix: str, slug: str, uuid: str) -> str:
    """A Slurm-safe, deterministic account name: prefix + slug + '-' + 6 hex of the uuid.

    The uuid fragment keeps two projects (or allocations) with the same slug apart; the slug
    part is cut so that the whole stays within ACCOUNT_NAME_MAX.
    """
    tag = re.sub(r"[^0-9a-f]", "", uuid.lower())[:6] or hashlib.sha256(slug.encode()).hexdigest()[:6]
    base = _UNSAFE.sub("-", f"{prefix}{slug}".lower()).strip("-")
    base = re.sub(r"-{2,}", "-", base)[: ACCOUNT_NAME_MAX - len(tag) - 1].rstrip("-")
    return f"{base}-{tag}" if base else tag


class SlurmBackend(Backend):
    name = "slurm"

    def __init__(self, config: dict, *, runner: SlurmRunner | None = None):
        super().__init__(config)
        unknown = set(config) - set(DEFAULTS)
        if unknown:
            logger.warning("slurm backend: unknown config keys ignored: %s", ", ".join(sorted(unknown)))
        settings = {**DEFAULTS, **config}
        self.cluster: str = settings["cluster_name"]
        self.prefixes = (settings["customer_prefix"], settings["project_prefix"], settings["allocation_prefix"])
        self.soft_delete = bool(settings["soft_delete"])
        self.components = self._read_components(settings["components"])
        self.runner = runner or SlurmRunner(
            timeout=float(settings["command_timeout"]),
            dry_run=bool(settings["dry_run"]),
            bin_dir=settings["bin_dir"],
        )

    @staticmethod
    def _read_components(table: dict) -> dict[str, Component]:
        components = {}
        for component_type, spec in table.items():
            try:
                factor = float(spec.get("unit_factor", 1))
                components[component_type] = Component(component_type, str(spec["tres"]), factor)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise BackendError(f"slurm backend: bad config for component {component_type!r}") from exc
            if factor <= 0:
                raise BackendError(f"slurm backend: unit_factor of {component_type!r} must be positive")
        return components

    # -- naming --------------------------------------------------------------------------------

    def account_names(self, allocation: Allocation) -> AccountNames:
        customer_prefix, project_prefix, allocation_prefix = self.prefixes
        return AccountNames(
            customer=slurm_name(customer_prefix, allocation.customer_slug, allocation.customer_uuid),
            project=slurm_name(project_prefix, allocation.project_slug, allocation.project_uuid),
            allocation=allocation.backend_id
            or slurm_name(allocation_prefix, allocation.slug, allocation.resource_uuid),
        )

    def _account(self, allocation: Allocation) -> str:
        return self.account_names(allocation).allocation

    # -- the interface ---------------------------------------------------------------------------

    def describe_manifest(self) -> dict:
        return {
            "features": {
                # Batch jobs are what a Slurm account is for; the protocol has no separate flag for
                # them, so the container and VM kinds are simply off.
                "compute": {
                    "docker": {"enabled": False},
                    "virtualMachine": {"enabled": False},
                },
                "storage": {"enabled": False},
            },
            "components": sorted(self.components),
            "offering_types": ["SlurmInvoices.SlurmPackage", "slurm"],
        }

    def create(self, allocation: Allocation) -> str:
        names = self.account_names(allocation)
        found = self._associations(accounts=[names.customer, names.project, names.allocation])
        accounts = {a.account: a for a in found if not a.user}
        chain = [
            (names.customer, "root", allocation.customer_slug, {}),
            (names.project, names.customer, allocation.project_slug, {}),
            (names.allocation, names.project, allocation.slug, self._tres_minutes(allocation.limits)),
        ]
        for name, parent, description, limits in chain:
            existing = accounts.get(name)
            if existing is None:
                self._add_account(name, parent, description, allocation.customer_slug, limits)
            elif existing.parent != parent:
                # A name collision with an account made for something else: adopting it would be wrong.
                raise BackendError(f"Slurm account {name} already exists under {existing.parent}, not under {parent}")
            elif limits and any(existing.grp_tres_mins.get(t) != m for t, m in limits.items()):
                self._modify_account(name, f"GrpTRESMins={format_tres(limits)}")
        present = {a.user for a in found if a.user and a.account == names.allocation}
        missing = sorted({m.username for m in allocation.members if m.username} - present)
        if missing:
            self.runner.run(
                ["sacctmgr", "add", "user", ",".join(missing), f"account={names.allocation}", *self._where()]
            )
        return names.allocation

    def update_limits(self, allocation: Allocation, limits: dict[str, int]) -> None:
        minutes = self._tres_minutes(limits)
        if minutes:
            self._modify_account(self._account(allocation), f"GrpTRESMins={format_tres(minutes)}")

    def terminate(self, allocation: Allocation) -> None:
        names = self.account_names(allocation)
        self._cancel_jobs(names.allocation)
        if self.soft_delete:
            zero = format_tres({c.tres: 0 for c in self.components.values()})
            self._modify_account(names.allocation, f"GrpTRESMins={zero}", "GrpSubmitJobs=0")
            return
        users = [a.user for a in self._associations(accounts=[names.allocation]) if a.user]
        self._remove_users(names.allocation, users)
        removed = [names.allocation]
        if not self.runner.dry_run:
            # Prune the project (and then the customer) account once nothing is left under it.
            children = self._associations(parents=[names.project, names.customer])
            if not [a for a in children if a.parent == names.project and a.account != names.allocation]:
                removed.append(names.project)
                if not [a for a in children if a.parent == names.customer and a.account != names.project]:
                    removed.append(names.customer)
        self._remove(["sacctmgr", "remove", "account", "where", f"name={','.join(removed)}", *self._where()])
        if self.cluster and not self.runner.dry_run:
            # Removing a cluster's associations leaves the account records themselves behind.
            elsewhere = {a.account for a in self._associations(accounts=removed, anywhere=True)}
            orphans = [name for name in removed if name not in elsewhere]
            if orphans:
                self._remove(["sacctmgr", "remove", "account", "where", f"name={','.join(orphans)}"])

    def add_user(self, allocation: Allocation, username: str) -> None:
        self.runner.run(["sacctmgr", "add", "user", username, f"account={self._account(allocation)}", *self._where()])

    def remove_user(self, allocation: Allocation, username: str) -> None:
        account = self._account(allocation)
        self._cancel_jobs(account, username)
        self._remove_users(account, [username])

    def pause(self, allocation: Allocation) -> None:
        self._modify_account(self._account(allocation), "GrpSubmitJobs=0")

    def resume(self, allocation: Allocation) -> None:
        self._modify_account(self._account(allocation), "GrpSubmitJobs=-1")

    def report_usage(self, allocation: Allocation, month: date) -> list[UsageReport]:
        """Usage in the month from sacct: per job, AllocTRES × elapsed seconds, cut to the month."""
        start = date(month.year, month.month, 1)
        end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        args = ["sacct", "--allocations", "--allusers", "--truncate", f"--accounts={self._account(allocation)}"]
        args += [f"--starttime={start.isoformat()}T00:00:00", f"--endtime={end.isoformat()}T00:00:00"]
        args += ["--format=JobID,User,AllocTRES,ElapsedRaw", *self._clusters_option()]
        totals: dict[str, float] = dict.fromkeys(self.components, 0.0)
        per_user: dict[tuple[str, str], float] = {}
        for row in self.runner.run(args).rows():
            if len(row) < 4 or not row[3].isdigit():
                continue
            user, tres, elapsed = row[1], parse_tres(row[2]), int(row[3])
            for component in self.components.values():
                minutes = tres.get(component.tres, 0.0) * elapsed / 60
                totals[component.type] += minutes
                if user:
                    key = (component.type, user)
                    per_user[key] = per_user.get(key, 0.0) + minutes
        reports = [UsageReport(t, self._units(t, minutes)) for t, minutes in sorted(totals.items())]
        reports += [
            UsageReport(t, self._units(t, minutes), username=user) for (t, user), minutes in sorted(per_user.items())
        ]
        return reports

    # -- the diff ----------------------------------------------------------------------------------

    def diff(self, allocations: Iterable[Allocation]) -> SlurmDiff:
        """Compare the accounts under our prefixes with the allocations the agent believes in."""
        associations = self._associations()
        accounts = {a.account: a for a in associations if not a.user}
        users: dict[str, set[str]] = {}
        for a in associations:
            if a.user:
                users.setdefault(a.account, set()).add(a.user)
        result = SlurmDiff()
        expected: set[str] = set()
        for allocation in allocations:
            names = self.account_names(allocation)
            for name in (names.customer, names.project, names.allocation):
                if name not in expected and name not in accounts:
                    result.missing_accounts.append(name)
                expected.add(name)
            if names.allocation not in accounts:
                continue
            actual = accounts[names.allocation].grp_tres_mins
            for tres, minutes in self._tres_minutes(allocation.limits).items():
                if actual.get(tres) != minutes:
                    found = actual.get(tres)
                    result.limit_mismatches.append(
                        LimitMismatch(names.allocation, tres, minutes, None if found is None else int(found))
                    )
            wanted = {m.username for m in allocation.members if m.username}
            present = users.get(names.allocation, set())
            result.missing_users += [(names.allocation, u) for u in sorted(wanted - present)]
            result.unexpected_users += [(names.allocation, u) for u in sorted(present - wanted)]
        prefixes = tuple(p for p in self.prefixes if p)
        result.unexpected_accounts = sorted(
            name for name in accounts if name != "root" and name.startswith(prefixes) and name not in expected
        )
        return result

    # -- steps -----------------------------------------------------------------------------------

    def _where(self) -> list[str]:
        return [f"cluster={self.cluster}"] if self.cluster else []

    def _clusters_option(self) -> list[str]:
        return [f"--clusters={self.cluster}"] if self.cluster else []

    def _units(self, component_type: str, minutes: float) -> float:
        return minutes / self.components[component_type].unit_factor

    def _tres_minutes(self, limits: dict[str, int]) -> dict[str, int]:
        minutes: dict[str, int] = {}
        for component_type, amount in limits.items():
            component = self.components.get(component_type)
            if component is None:
                logger.warning("slurm backend: component %r is not configured; not limited", component_type)
                continue
            if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
                # Slurm reads a negative limit as "no limit": never let one through.
                raise BackendError(f"limit of {component_type} must be a number >= 0, not {amount!r}")
            minutes[component.tres] = round(amount * component.unit_factor)
        return minutes

    def _add_account(self, name: str, parent: str, description: str, organization: str, limits: dict) -> None:
        args = ["sacctmgr", "add", "account", name, f"parent={parent}", f"description={description or name}"]
        args += [f"organization={organization or name}", *self._where()]
        if limits:
            args.append(f"GrpTRESMins={format_tres(limits)}")
        self.runner.run(args)

    def _modify_account(self, account: str, *settings: str) -> None:
        args = ["sacctmgr", "modify", "account", "where", f"name={account}", *self._where(), "set", *settings]
        result = self.runner.run(args, check=False)
        if result.ok:
            return
        if "Nothing modified" in result.message:
            raise BackendError(f"Slurm account {account} does not exist (sacctmgr: Nothing modified)")
        raise result.error()

    def _cancel_jobs(self, account: str, username: str = "") -> None:
        args = ["scancel", f"--account={account}", *self._clusters_option()]
        self.runner.run([*args, f"--user={username}"] if username else args)

    def _remove(self, args: list[str]) -> None:
        """Remove with sacctmgr, waiting while Slurm still sees just-cancelled jobs as active."""
        deadline = time.monotonic() + _ACTIVE_JOBS_WAIT
        while True:
            result = self.runner.run(args, check=False)
            if result.ok:
                return
            if "Job(s) active" not in result.message or time.monotonic() > deadline:
                raise result.error()
            time.sleep(0.5)

    def _remove_users(self, account: str, users: list[str]) -> None:
        """Remove the users' associations with the account, keeping each user a default account.

        slurmdbd refuses to remove the association that is a user's default while the user keeps
        others, so such users first get another default. It also refuses a single request that
        removes some users entirely and leaves others with associations, hence two requests.
        """
        if not users:
            return
        if self.runner.dry_run:
            args = ["sacctmgr", "remove", "user", "where", f"name={','.join(users)}", f"account={account}"]
            self._remove([*args, *self._where()])
            return
        others: dict[str, list[str]] = {user: [] for user in users}
        for a in self._associations(users=users):
            if a.account != account and a.user in others:
                others[a.user].append(a.account)
        rows = self.runner.run(["sacctmgr", "show", "user", ",".join(users), "format=User,DefaultAccount"]).rows()
        defaults = {row[0]: row[1] for row in rows if len(row) >= 2}
        staying = [user for user in users if others[user]]
        for user in staying:
            if defaults.get(user, "") in ("", account):
                where = ["where", f"name={user}", *self._where()]
                self.runner.run(["sacctmgr", "modify", "user", *where, "set", f"DefaultAccount={min(others[user])}"])
        for group in (staying, [user for user in users if not others[user]]):
            if group:
                where = ["where", f"name={','.join(group)}", f"account={account}", *self._where()]
                self._remove(["sacctmgr", "remove", "user", *where])

    def _associations(
        self,
        *,
        accounts: Iterable[str] = (),
        users: Iterable[str] = (),
        parents: Iterable[str] = (),
        anywhere: bool = False,
    ) -> list[_Association]:
        """Associations in slurmdbd (on our cluster unless `anywhere`); account rows have no user."""
        filters = {"account": list(accounts), "user": list(users), "parent": list(parents)}
        where = [f"{key}={','.join(values)}" for key, values in filters.items() if values]
        where += [] if anywhere else self._where()
        args = ["sacctmgr", "show", "associations", *(["where", *where] if where else [])]
        rows = self.runner.run([*args, "format=Account,User,ParentName,GrpTRESMins"]).rows()
        return [_Association(r[0], r[1], r[2], parse_tres(r[3])) for r in rows if len(r) >= 4]
