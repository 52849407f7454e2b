"""A backend that keeps allocations in its own table, for demos, tests and trying the protocol out.

Nothing real is created: an allocation is a row in `local_allocations` of the agent's state file
(or of `state_path` in `[backend.local]`), its backend_id is `local-<slug>`. Usage is predictable:
for every component with a limit above zero, the month's usage is `limit * usage_fraction`
(default 0.25), rounded to three decimals, so it is never zero and never above the limit, and it
changes only when the limits change.

Options (`[backend.local]`): state_path, usage_fraction, components, offering_types, features,
refuse_slugs (creating an allocation with one of these slugs fails, to try out error paths),
can_pause (default true: pausing records the allocation in `local_paused`; false makes the site one
that cannot pause, which then does not advertise `resources.pause`),
journal_path (every create / update_limits / terminate / add_user / remove_user / pause / resume call
is appended to this file as a line `<operation> <resource_uuid> [username]`, for tests that count calls).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date

from site_agent.backends.base import Allocation, Backend, BackendError, UsageReport
from site_agent.store import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS local_allocations (
    resource_uuid TEXT PRIMARY KEY,
    backend_id TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL,
    project_uuid TEXT NOT NULL,
    limits TEXT NOT NULL,
    live INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS local_users (
    backend_id TEXT NOT NULL,
    username TEXT NOT NULL,
    PRIMARY KEY (backend_id, username)
);
CREATE TABLE IF NOT EXISTS local_paused (
    backend_id TEXT PRIMARY KEY
);
"""

DEFAULT_COMPONENTS = ("cpu", "gpu", "storage")


@dataclasses.dataclass
class LocalDiff:
    missing: list[str] = dataclasses.field(default_factory=list)  # believed live, not at the site
    unexpected: list[str] = dataclasses.field(default_factory=list)  # at the site, unknown to the agent
    limit_mismatches: list[tuple[str, dict, dict]] = dataclasses.field(default_factory=list)  # (id, agent, site)
    missing_users: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    unexpected_users: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not any(dataclasses.astuple(self))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class LocalBackend(Backend):
    name = "local"

    def __init__(self, config: dict):
        super().__init__(config)
        if not config.get("state_path"):
            raise BackendError("local backend: state_path is not set")
        fraction = config.get("usage_fraction", 0.25)
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1:
            raise BackendError("backend.local.usage_fraction: a number above 0 and at most 1")
        self.usage_fraction = float(fraction)
        self.refuse_slugs = set(config.get("refuse_slugs", ()))
        self.journal_path = config.get("journal_path") or None
        self._can_pause = config.get("can_pause", True)
        if not isinstance(self._can_pause, bool):
            raise BackendError("backend.local.can_pause: true or false")
        self._lock = threading.Lock()
        self._db = connect(config["state_path"])
        self._db.executescript(SCHEMA)

    def describe_manifest(self) -> dict:
        return {
            "features": self.config.get("features", {}),
            "components": list(self.config.get("components", DEFAULT_COMPONENTS)),
            "offering_types": list(self.config.get("offering_types", ("SiteAgent.Local",))),
        }

    def create(self, allocation: Allocation) -> str:
        self._journal("create", allocation)
        if allocation.slug in self.refuse_slugs:
            raise BackendError(f"the site refuses allocations named {allocation.slug!r}")
        with self._transaction() as db:
            row = db.execute(
                "SELECT backend_id FROM local_allocations WHERE resource_uuid = ?", (allocation.resource_uuid,)
            ).fetchone()
            if row is not None:
                backend_id = row["backend_id"]
                db.execute("UPDATE local_allocations SET live = 1 WHERE backend_id = ?", (backend_id,))
            else:
                backend_id = f"local-{allocation.slug}"
                taken = db.execute("SELECT 1 FROM local_allocations WHERE backend_id = ?", (backend_id,)).fetchone()
                if taken:
                    backend_id = f"{backend_id}-{allocation.resource_uuid.replace('-', '')[:8]}"
                db.execute(
                    "INSERT INTO local_allocations VALUES (?, ?, ?, ?, ?, 1)",
                    (
                        allocation.resource_uuid,
                        backend_id,
                        allocation.slug,
                        allocation.project_uuid,
                        json.dumps(allocation.limits, sort_keys=True),
                    ),
                )
            db.executemany(
                "INSERT OR IGNORE INTO local_users VALUES (?, ?)",
                [(backend_id, m.username) for m in allocation.members],
            )
        return backend_id

    def update_limits(self, allocation: Allocation, limits: dict[str, int]) -> None:
        self._journal("update_limits", allocation)
        with self._transaction() as db:
            backend_id = self._backend_id(db, allocation)
            db.execute(
                "UPDATE local_allocations SET limits = ? WHERE backend_id = ?",
                (json.dumps(limits, sort_keys=True), backend_id),
            )

    def terminate(self, allocation: Allocation) -> None:
        self._journal("terminate", allocation)
        with self._transaction() as db:
            db.execute(
                "UPDATE local_allocations SET live = 0 WHERE resource_uuid = ? OR backend_id = ?",
                (allocation.resource_uuid, allocation.backend_id),
            )

    def add_user(self, allocation: Allocation, username: str) -> None:
        self._journal("add_user", allocation, username)
        with self._transaction() as db:
            backend_id = self._backend_id(db, allocation)
            db.execute("INSERT OR IGNORE INTO local_users VALUES (?, ?)", (backend_id, username))

    def remove_user(self, allocation: Allocation, username: str) -> None:
        self._journal("remove_user", allocation, username)
        with self._transaction() as db:
            backend_id = self._backend_id(db, allocation)
            db.execute("DELETE FROM local_users WHERE backend_id = ? AND username = ?", (backend_id, username))

    @property
    def can_pause(self) -> bool:
        return self._can_pause and super().can_pause

    def pause(self, allocation: Allocation) -> None:
        self._set_paused("pause", allocation, True)

    def resume(self, allocation: Allocation) -> None:
        self._set_paused("resume", allocation, False)

    def _set_paused(self, operation: str, allocation: Allocation, paused: bool) -> None:
        self._journal(operation, allocation)
        if not self._can_pause:
            raise BackendError(f"this site cannot {operation} allocations")
        with self._transaction() as db:
            backend_id = self._backend_id(db, allocation)
            if paused:
                db.execute("INSERT OR IGNORE INTO local_paused VALUES (?)", (backend_id,))
            else:
                db.execute("DELETE FROM local_paused WHERE backend_id = ?", (backend_id,))

    def paused(self, backend_id: str) -> bool:
        with self._lock:
            return (
                self._db.execute("SELECT 1 FROM local_paused WHERE backend_id = ?", (backend_id,)).fetchone()
                is not None
            )

    def report_usage(self, allocation: Allocation, month: date) -> list[UsageReport]:
        with self._lock:
            row = self._db.execute(
                "SELECT limits FROM local_allocations WHERE resource_uuid = ?", (allocation.resource_uuid,)
            ).fetchone()
        if row is None:
            return []
        limits = json.loads(row["limits"])
        return [
            UsageReport(component_type=component, amount=round(limit * self.usage_fraction, 3))
            for component, limit in sorted(limits.items())
            if limit > 0
        ]

    def diff(self, allocations: Iterable[Allocation]) -> LocalDiff:
        """Compare the site's table with the allocations the agent believes in (the `diff` command)."""
        with self._lock:
            rows = {r["backend_id"]: r for r in self._db.execute("SELECT * FROM local_allocations WHERE live = 1")}
            users: dict[str, set[str]] = {}
            for u in self._db.execute("SELECT * FROM local_users"):
                users.setdefault(u["backend_id"], set()).add(u["username"])
        result = LocalDiff()
        expected = set()
        for allocation in allocations:
            expected.add(allocation.backend_id)
            row = rows.get(allocation.backend_id)
            if row is None:
                result.missing.append(allocation.backend_id)
                continue
            if json.loads(row["limits"]) != allocation.limits:
                result.limit_mismatches.append((allocation.backend_id, allocation.limits, json.loads(row["limits"])))
            wanted = {m.username for m in allocation.members}
            present = users.get(allocation.backend_id, set())
            result.missing_users += [(allocation.backend_id, u) for u in sorted(wanted - present)]
            result.unexpected_users += [(allocation.backend_id, u) for u in sorted(present - wanted)]
        result.unexpected = sorted(set(rows) - expected)
        return result

    def users(self, backend_id: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT username FROM local_users WHERE backend_id = ? ORDER BY username", (backend_id,)
            ).fetchall()
        return [r["username"] for r in rows]

    def _backend_id(self, db: sqlite3.Connection, allocation: Allocation) -> str:
        row = db.execute(
            "SELECT backend_id FROM local_allocations WHERE resource_uuid = ? OR backend_id = ?",
            (allocation.resource_uuid, allocation.backend_id),
        ).fetchone()
        if row is None:
            raise BackendError(f"no local allocation for resource {allocation.resource_uuid}")
        return row["backend_id"]

    def _journal(self, operation: str, allocation: Allocation, *extra: str) -> None:
        """One line per call, `<operation> <resource_uuid> [username]`, so tests can count calls across processes."""
        if self.journal_path is None:
            return
        with self._lock, open(self.journal_path, "a") as fh:
            fh.write(" ".join((operation, allocation.resource_uuid, *extra)) + "\n")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
