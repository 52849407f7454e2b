"""The agent's state, in one SQLite file: everything it must not forget across restarts.

One connection shared by all threads behind a lock; writes run in `BEGIN IMMEDIATE` transactions so
another process on the same file (the `connect` and `diff` commands, a backend's own connection)
waits for its turn instead of failing half-way.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from protocol.messages import (
    MAX_ERROR_MESSAGE,
    UPDATE_STATES,
    ConnectionRequest,
    MembershipChange,
    OrderAck,
    OrderItem,
    OrderStatus,
    PauseAck,
    PauseChange,
    clean_text,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_uuid TEXT NOT NULL UNIQUE,
    batch_id TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('create', 'update', 'terminate')),
    resource_uuid TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('accepted', 'executing', 'done', 'erred')),
    backend_id TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    received_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS orders_by_state ON orders (state, seq);
CREATE TABLE IF NOT EXISTS allocations (
    resource_uuid TEXT PRIMARY KEY,
    backend_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    customer_uuid TEXT NOT NULL,
    customer_slug TEXT NOT NULL,
    project_uuid TEXT NOT NULL,
    project_slug TEXT NOT NULL,
    offering_type TEXT NOT NULL,
    limits TEXT NOT NULL,
    attributes TEXT NOT NULL,
    live INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS allocations_by_project ON allocations (project_uuid, live);
CREATE TABLE IF NOT EXISTS project_members (
    project_uuid TEXT NOT NULL,
    user_uuid TEXT NOT NULL,
    username TEXT,
    role TEXT NOT NULL,
    present INTEGER NOT NULL,
    PRIMARY KEY (project_uuid, user_uuid)
);
CREATE TABLE IF NOT EXISTS membership_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id TEXT NOT NULL UNIQUE,
    project_uuid TEXT NOT NULL,
    user_uuid TEXT NOT NULL,
    username TEXT,
    role TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'failed')),
    error_message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS membership_changes_by_state ON membership_changes (state, seq);
CREATE TABLE IF NOT EXISTS pause_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id TEXT NOT NULL UNIQUE,
    resource_uuid TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    paused INTEGER NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'superseded', 'failed')),
    error_message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS pause_changes_by_state ON pause_changes (state, seq);
CREATE TABLE IF NOT EXISTS pause_state (
    resource_uuid TEXT PRIMARY KEY,
    sequence INTEGER NOT NULL,
    paused INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('order_update', 'usage')),
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS usage_records (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_uuid TEXT NOT NULL,
    backend_id TEXT NOT NULL,
    component_type TEXT NOT NULL,
    billing_month TEXT NOT NULL,
    amount TEXT NOT NULL,
    username TEXT NOT NULL,
    sampled_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS usage_latest (
    resource_uuid TEXT NOT NULL,
    component_type TEXT NOT NULL,
    billing_month TEXT NOT NULL,
    username TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (resource_uuid, component_type, billing_month, username)
);
CREATE TABLE IF NOT EXISTS connections (
    connection_id TEXT PRIMARY KEY,
    user_uuid TEXT NOT NULL,
    email TEXT NOT NULL,
    full_name TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    username TEXT NOT NULL DEFAULT '',
    return_url TEXT NOT NULL DEFAULT ''
);
"""
# Columns added after a table was first created: (table, column, definition), added on start when missing.
ADDED_COLUMNS = (("connections", "return_url", "TEXT NOT NULL DEFAULT ''"),)


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, waiting on locks."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._conn = connect(self.path)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.executescript(SCHEMA)  # CREATE ... IF NOT EXISTS: safe on every start
            for table, column, definition in ADDED_COLUMNS:  # a state file written by an older agent
                if column not in {row["name"] for row in self._conn.execute(f"PRAGMA table_info({table})")}:
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _all(self, sql: str, params: Iterable = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def _one(self, sql: str, params: Iterable = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchone()

    # --- orders ---------------------------------------------------------------------------------

    def orders_accept(self, batch_id: str, items: Iterable[OrderItem]) -> list[OrderAck]:
        """Store every new order of the batch in one transaction; known order uuids are only acknowledged."""
        acks = []
        now = time.time()
        with self.transaction() as db:
            for item in items:
                cur = db.execute(
                    "INSERT OR IGNORE INTO orders (order_uuid, batch_id, type, resource_uuid, payload, state,"
                    " received_at) VALUES (?, ?, ?, ?, ?, 'accepted', ?)",
                    (item.order_uuid, batch_id, item.type, item.resource.uuid, _dump(item.to_dict()), now),
                )
                if cur.rowcount:
                    row = db.execute(
                        "SELECT backend_id FROM allocations WHERE resource_uuid = ?", (item.resource.uuid,)
                    ).fetchone()
                    backend_id = row["backend_id"] if row else item.resource.backend_id
                else:
                    row = db.execute(
                        "SELECT backend_id FROM orders WHERE order_uuid = ?", (item.order_uuid,)
                    ).fetchone()
                    backend_id = row["backend_id"]
                acks.append(OrderAck(order_uuid=item.order_uuid, accepted=True, backend_id=backend_id))
        return acks

    def orders_requeue_interrupted(self) -> int:
        """Orders left executing by a stopped agent run again (backends are idempotent)."""
        with self.transaction() as db:
            return db.execute("UPDATE orders SET state = 'accepted' WHERE state = 'executing'").rowcount

    def orders_claim(self, limit: int) -> list[sqlite3.Row]:
        with self.transaction() as db:
            rows = db.execute("SELECT * FROM orders WHERE state = 'accepted' ORDER BY seq LIMIT ?", (limit,)).fetchall()
            if rows:
                marks = ",".join("?" * len(rows))
                db.execute(f"UPDATE orders SET state = 'executing' WHERE seq IN ({marks})", [r["seq"] for r in rows])  # noqa: S608
        return rows

    def order_get(self, order_uuid: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM orders WHERE order_uuid = ?", (order_uuid,))

    def order_finish(
        self,
        order_uuid: str,
        *,
        state: str,
        backend_id: str = "",
        error_message: str = "",
        allocation: dict | None = None,
    ) -> None:
        """Record the outcome, the allocation it leaves and the update for the orchestrator, at once.

        The update is checked as the orchestrator will check it (ProtocolError otherwise), so that an
        update it could only refuse is never queued; a backend's error text is made storable first.
        """
        error_message = clean_text(error_message, MAX_ERROR_MESSAGE)
        update = {"order_uuid": order_uuid, "state": state, "backend_id": backend_id, "error_message": error_message}
        OrderStatus.from_dict(update, states=UPDATE_STATES)
        with self.transaction() as db:
            db.execute(
                "UPDATE orders SET state = ?, backend_id = ?, error_message = ?, finished_at = ? WHERE order_uuid = ?",
                (state, backend_id, error_message, time.time(), order_uuid),
            )
            if allocation is not None:
                self._allocation_put(db, allocation)
            self._outbox_add(db, "order_update", update)

    def orders_in_flight_resources(self) -> set[str]:
        rows = self._all("SELECT DISTINCT resource_uuid FROM orders WHERE state IN ('accepted', 'executing')")
        return {r["resource_uuid"] for r in rows}

    # --- allocations ----------------------------------------------------------------------------

    @staticmethod
    def _allocation_put(db: sqlite3.Connection, a: dict) -> None:
        db.execute(
            "INSERT INTO allocations (resource_uuid, backend_id, slug, customer_uuid, customer_slug, project_uuid,"
            " project_slug, offering_type, limits, attributes, live) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (resource_uuid) DO UPDATE SET backend_id = excluded.backend_id, slug = excluded.slug,"
            " limits = excluded.limits, attributes = excluded.attributes, live = excluded.live",
            (
                a["resource_uuid"],
                a["backend_id"],
                a["slug"],
                a["customer_uuid"],
                a["customer_slug"],
                a["project_uuid"],
                a["project_slug"],
                a["offering_type"],
                _dump(a["limits"]),
                _dump(a["attributes"]),
                int(a["live"]),
            ),
        )

    def allocation_get(self, resource_uuid: str) -> dict | None:
        row = self._one("SELECT * FROM allocations WHERE resource_uuid = ?", (resource_uuid,))
        return _allocation(row) if row else None

    def allocations(self, *, live: bool = True, project_uuid: str | None = None) -> list[dict]:
        sql, params = "SELECT * FROM allocations WHERE live = ?", [int(live)]
        if project_uuid is not None:
            sql, params = sql + " AND project_uuid = ?", [*params, project_uuid]
        return [_allocation(r) for r in self._all(sql + " ORDER BY resource_uuid", params)]

    # --- project members ------------------------------------------------------------------------

    def members_seed(self, project_uuid: str, members: Iterable[tuple[str, str | None, str]]) -> None:
        """Learn members from an order's project, unless a membership change already spoke of them."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO project_members (project_uuid, user_uuid, username, role, present)"
                " VALUES (?, ?, ?, ?, 1)",
                [(project_uuid, user_uuid, username, role) for user_uuid, username, role in members],
            )

    def members(self, project_uuid: str) -> list[tuple[str, str]]:
        rows = self._all(
            "SELECT username, role FROM project_members WHERE project_uuid = ? AND present = 1"
            " AND username IS NOT NULL ORDER BY username",
            (project_uuid,),
        )
        return [(r["username"], r["role"]) for r in rows]

    def memberships_accept(self, changes: Iterable[MembershipChange]) -> int:
        """Store new changes (by change_id) and apply them to the member list; returns how many were new."""
        new = 0
        with self.transaction() as db:
            for c in changes:
                cur = db.execute(
                    "INSERT OR IGNORE INTO membership_changes (change_id, project_uuid, user_uuid, username, role,"
                    " action, state) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                    (c.change_id, c.project_uuid, c.user_uuid, c.username, c.role, c.action),
                )
                if not cur.rowcount:
                    continue
                new += 1
                db.execute(
                    "INSERT INTO project_members (project_uuid, user_uuid, username, role, present)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_uuid, user_uuid) DO UPDATE SET"
                    " username = COALESCE(excluded.username, project_members.username), role = excluded.role,"
                    " present = excluded.present",
                    (c.project_uuid, c.user_uuid, c.username, c.role, int(c.action == "add")),
                )
        return new

    def memberships_pending(self, limit: int) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM membership_changes WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,))

    def membership_finish(self, change_id: str, *, error_message: str = "") -> None:
        state = "failed" if error_message else "applied"
        with self.transaction() as db:
            db.execute(
                "UPDATE membership_changes SET state = ?, error_message = ? WHERE change_id = ?",
                (state, error_message, change_id),
            )

    def membership_get(self, change_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM membership_changes WHERE change_id = ?", (change_id,))

    # --- pauses ---------------------------------------------------------------------------------

    def pauses_accept(self, changes: Iterable[PauseChange]) -> list[PauseAck]:
        """Store new pause changes (by change_id) for the worker; a known change_id is a `duplicate`."""
        acks = []
        with self.transaction() as db:
            for c in changes:
                cur = db.execute(
                    "INSERT OR IGNORE INTO pause_changes (change_id, resource_uuid, sequence, paused, reason, state)"
                    " VALUES (?, ?, ?, ?, ?, 'pending')",
                    (c.change_id, c.resource_uuid, c.sequence, int(c.paused), c.reason),
                )
                acks.append(PauseAck(change_id=c.change_id, status="accepted" if cur.rowcount else "duplicate"))
        return acks

    def pauses_pending(self, limit: int) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM pause_changes WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,))

    def pause_finish(self, change: sqlite3.Row, *, state: str, error_message: str = "") -> None:
        """Record a change's outcome; an applied one becomes its resource's state unless a newer one is."""
        with self.transaction() as db:
            db.execute(
                "UPDATE pause_changes SET state = ?, error_message = ? WHERE change_id = ?",
                (state, clean_text(error_message, MAX_ERROR_MESSAGE), change["change_id"]),
            )
            if state == "applied":
                db.execute(
                    "INSERT INTO pause_state (resource_uuid, sequence, paused) VALUES (?, ?, ?)"
                    " ON CONFLICT (resource_uuid) DO UPDATE SET sequence = excluded.sequence,"
                    " paused = excluded.paused WHERE excluded.sequence > pause_state.sequence",
                    (change["resource_uuid"], change["sequence"], change["paused"]),
                )

    def pause_state(self, resource_uuid: str) -> tuple[int, bool]:
        """(sequence, paused) of the last change applied to the resource; (0, False) before any."""
        row = self._one("SELECT sequence, paused FROM pause_state WHERE resource_uuid = ?", (resource_uuid,))
        return (row["sequence"], bool(row["paused"])) if row else (0, False)

    def pause_get(self, change_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM pause_changes WHERE change_id = ?", (change_id,))

    # --- outbox ---------------------------------------------------------------------------------

    @staticmethod
    def _outbox_add(db: sqlite3.Connection, kind: str, payload: dict) -> None:
        db.execute(
            "INSERT INTO outbox (kind, payload, created_at) VALUES (?, ?, ?)", (kind, _dump(payload), time.time())
        )

    def outbox_next(self, limit: int) -> tuple[str, list[tuple[int, dict]]]:
        """The oldest waiting messages, all of the oldest one's kind, so they travel in one request."""
        with self._lock:
            first = self._conn.execute("SELECT kind FROM outbox ORDER BY id LIMIT 1").fetchone()
            if first is None:
                return "", []
            rows = self._conn.execute(
                "SELECT id, payload FROM outbox WHERE kind = ? ORDER BY id LIMIT ?", (first["kind"], limit)
            ).fetchall()
        return first["kind"], [(r["id"], json.loads(r["payload"])) for r in rows]

    def outbox_delete(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        with self.transaction() as db:
            db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])

    def outbox_count(self) -> int:
        return self._one("SELECT COUNT(*) AS n FROM outbox")["n"]

    # --- usage ----------------------------------------------------------------------------------

    def usage_record_changes(self, samples: Iterable[dict], *, push: bool) -> list[dict]:
        """Append a record for every sample whose amount differs from the last one recorded.

        A sample is a dict with resource_uuid, backend_id, component_type, billing_month, amount
        (decimal string) and username. Returns the new records with their cursors.
        """
        records = []
        now = time.time()
        with self.transaction() as db:
            for s in samples:
                key = (s["resource_uuid"], s["component_type"], s["billing_month"], s["username"])
                last = db.execute(
                    "SELECT amount FROM usage_latest WHERE resource_uuid = ? AND component_type = ?"
                    " AND billing_month = ? AND username = ?",
                    key,
                ).fetchone()
                if last is not None and last["amount"] == s["amount"]:
                    continue
                db.execute("INSERT OR REPLACE INTO usage_latest VALUES (?, ?, ?, ?, ?)", (*key, s["amount"]))
                cur = db.execute(
                    "INSERT INTO usage_records (resource_uuid, backend_id, component_type, billing_month, amount,"
                    " username, sampled_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key[0], s["backend_id"], key[1], key[2], s["amount"], key[3], now),
                )
                record = {"cursor": cur.lastrowid, **{k: s[k] for k in _USAGE_FIELDS}}
                records.append(record)
                if push:
                    self._outbox_add(db, "usage", record)
        return records

    def usage_page(self, after: int, limit: int) -> tuple[list[dict], int]:
        rows = self._all("SELECT * FROM usage_records WHERE cursor > ? ORDER BY cursor LIMIT ?", (after, limit))
        records = [{"cursor": r["cursor"], **{k: r[k] for k in _USAGE_FIELDS}} for r in rows]
        return records, records[-1]["cursor"] if records else after

    # --- connections ----------------------------------------------------------------------------

    def connection_open(self, request: ConnectionRequest, token: str) -> str:
        """Remember a connection request; asking again for a pending one gives back the same token."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT token, state FROM connections WHERE connection_id = ?", (request.connection_id,)
            ).fetchone()
            if row is not None and row["state"] == "pending":
                return row["token"]
            db.execute(
                "INSERT OR REPLACE INTO connections (connection_id, user_uuid, email, full_name, token, created_at,"
                " return_url, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                (
                    request.connection_id,
                    request.user_uuid,
                    request.email,
                    request.full_name,
                    token,
                    time.time(),
                    request.return_url,
                ),
            )
        return token

    def connection_by_token(self, token: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM connections WHERE token = ?", (token,))

    def connection_get(self, connection_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM connections WHERE connection_id = ?", (connection_id,))

    def connection_done(self, connection_id: str, username: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE connections SET state = 'done', username = ? WHERE connection_id = ?",
                (username, connection_id),
            )


_USAGE_FIELDS = ("resource_uuid", "backend_id", "component_type", "billing_month", "amount", "username")


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _allocation(row: sqlite3.Row) -> dict:
    a = dict(row)
    a["limits"] = json.loads(a["limits"])
    a["attributes"] = json.loads(a["attributes"])
    a["live"] = bool(a["live"])
    return a
