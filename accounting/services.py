"""Writes of accounting: usage reports from providers land here, with the resources' current usage.

A batch of reports is written set-based, in a fixed number of statements whatever its size.
On PostgreSQL, when every report names a different row (what providers send):

1. one INSERT … ON CONFLICT (resource, component_type, billing_period, username) DO UPDATE reads,
   compares and writes: a report equal to what its row holds leaves the row untouched; any other
   replaces the month's amount, and the statement itself sets `previous_usage` to the amount
   replaced and `decreased` when the new one is lower; it returns the rows it wrote (the rows
   travel as a JSON array per column, in key order).

When a batch names a row twice, or on other databases:

1. one SELECT … FOR UPDATE reads (and locks) the stored rows the batch names;
2. the reports are walked in order in memory, with the same rules — two reports of one row in one
   batch are taken in turn, exactly as if they had come one after the other;
3. one INSERT … ON CONFLICT DO UPDATE writes every changed row (on PostgreSQL through `unnest`;
   elsewhere Django's `bulk_create(update_conflicts=True)` writes the same statement).

Then, either way, when anything changed:

4. one UPDATE refreshes `Resource.current_usages` of the resources whose whole-resource row of
   this month changed;
5. the usage listeners (shares, policies, invoices: `register_usage_listener`) are told which
   resources and months changed, to update what depends on usage with a fixed number of
   statements of their own;
6. each change of a resource's total (the row without a username) is recorded as an event
   (`marketplace_component_usage_reported`, or `..._decreased`), and so is every decrease of a
   per-user row; all of them in one INSERT (on PostgreSQL an INSERT … SELECT that reads the
   resources they name itself; elsewhere after one query for them). A per-user row that grows is
   a detail of its resource's total and records no event of its own.

On PostgreSQL each of these is one statement composed once, prepared on its connection, its values
sent apart from it (`prepared_cursor`), so a batch costs the database's work and little of Python's.
All of it runs in the caller's transaction (or, called outside one, in a transaction of its own).
Rows are locked in key order (on PostgreSQL; in id order elsewhere), so two batches that share rows
wait for each other instead of deadlocking.
Two transactions writing the same row at the same moment both succeed: the later one waits at the
conflict, and its amount wins, compared with the amount the first one wrote.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import DatabaseError, OperationalError, connection, models, transaction
from django.db.models import Aggregate, Exists, OuterRef, Subquery
from django.utils import timezone

from common.prepared import prepared_cursor
from events.models import Event
from events.services import event_build, events_insert, wake_dispatcher
from marketplace.models import Resource

from .models import ComponentUsage


class UsageReport(NamedTuple):
    """One month-cumulative amount for a row (a tuple: a batch makes hundreds of them, cheaply)."""

    resource_id: int
    component_type: str
    billing_period: date
    usage: Decimal
    username: str = ""


Key = tuple[int, str, date, str]  # resource_id, component_type, billing_period (first of the month), username


class _Change(NamedTuple):
    """What one report did to its row: the new amount, and the amount it replaced (None: a new row)."""

    key: Key
    usage: Decimal
    previous_usage: Decimal | None
    decreased: bool


UsageListener = Callable[..., None]
_listeners: list[UsageListener] = []


def register_usage_listener(listener: UsageListener) -> None:
    """Call `listener(resource_ids=set[int], months=set[date])` in the transaction of each batch that changed usage.

    It runs after the rows and the resources' current usage are written, so it reads what the batch
    stored. It must cost a fixed number of statements whatever the number of resources.
    """
    if listener not in _listeners:
        _listeners.append(listener)


def usage_report(*, reports: list[UsageReport], reported_at: datetime | None = None) -> int:
    """Store month-cumulative usage: the newest report replaces the month's amount.

    A report lower than the stored amount is kept (providers may correct themselves) but the row is
    flagged `decreased` with the previous amount, so accounting staff can see it. The resources'
    current usage follows in the same transaction. All reports are stored or none; returns the
    number of reports that changed a row.
    """
    with transaction.atomic():
        return sum(_write(reports, reported_at or timezone.now()))


def usage_report_each(*, reports: list[UsageReport], reported_at: datetime | None = None) -> list[int | DatabaseError]:
    """Per report, in order: 1 if it changed its row, 0 if the row already held it, or the database error.

    The batch is written set-based in one savepoint (called outside a transaction: in a
    transaction of its own). If that fails because the database is busy
    (an OperationalError: a lock or statement timeout, a deadlock), every report answers with that
    error, to be sent again. If it fails for another reason, some report cannot be stored (its
    resource was deleted meanwhile, say): the reports are then written one by one, each in its own
    savepoint, so the others are stored and only the bad ones answer with their error.
    """
    if not reports:
        return []
    reported_at = reported_at or timezone.now()
    try:
        with transaction.atomic():  # a savepoint in the caller's transaction, or a transaction of its own
            return list(_write(reports, reported_at))
    except OperationalError as exc:
        return [exc] * len(reports)
    except DatabaseError:
        pass
    with transaction.atomic():
        return [_write_alone(report, reported_at) for report in reports]


def _write_alone(report: UsageReport, reported_at: datetime) -> int | DatabaseError:
    try:
        with transaction.atomic():
            return _write([report], reported_at)[0]
    except DatabaseError as exc:
        return exc


def _write(reports: list[UsageReport], reported_at: datetime) -> list[int]:
    """Write a batch in a fixed number of statements; per report, 1 if it changed its row, else 0."""
    if not reports:
        return []
    keys: list[Key] = [(r.resource_id, r.component_type, r.billing_period.replace(day=1), r.username) for r in reports]
    if _set_based_sql() and len(set(keys)) == len(keys):
        changes, outcomes = _upsert_returning(reports, keys, reported_at)
    else:
        changes, outcomes = _walk(reports, keys, _stored_usages(sorted(set(keys))))
        if changes:
            final = {change.key: change for change in changes}  # the last change of each row stands
            _upsert([final[key] for key in sorted(final)], reported_at)
    if changes:
        changed = {change.key for change in changes}
        this_month = timezone.localdate().replace(day=1)
        _current_usages_refresh({key[0] for key in changed if key[2] == this_month and key[3] == ""}, this_month)
        for listener in _listeners:
            listener(resource_ids={key[0] for key in changed}, months={key[2] for key in changed})
        _usage_events_insert([change for change in changes if change.key[3] == "" or change.decreased])
    return outcomes


def _walk(reports: list[UsageReport], keys: list[Key], stored: dict[Key, Decimal]) -> tuple[list[_Change], list[int]]:
    """The changes the reports make, in order, each seeing the ones before it; and 1/0 per report."""
    current = dict(stored)
    changes: list[_Change] = []
    outcomes: list[int] = []
    for report, key in zip(reports, keys, strict=True):
        previous = current.get(key)
        if previous is not None and previous == report.usage:
            outcomes.append(0)
            continue
        changes.append(
            _Change(
                key=key,
                usage=report.usage,
                previous_usage=previous,
                decreased=previous is not None and report.usage < previous,
            )
        )
        current[key] = report.usage
        outcomes.append(1)
    return changes, outcomes


# -- the statements ----------------------------------------------------------------------------

_TABLE = ComponentUsage._meta.db_table
_KEY_COLUMNS = "resource_id, component_type, billing_period, username"

_SELECT_FOR_UPDATE_PG = f"""
    SELECT k.resource_id, k.component_type, k.billing_period, k.username, u.usage
    FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::text[]) AS k({_KEY_COLUMNS})
    CROSS JOIN LATERAL (
        SELECT c.usage FROM {_TABLE} c
        WHERE c.resource_id = k.resource_id AND c.component_type = k.component_type
          AND c.billing_period = k.billing_period AND c.username = k.username
        FOR UPDATE
    ) u
"""  # noqa: S608  (the names are the model's constants; every value is a parameter)

_UPSERT_PG = f"""
    INSERT INTO {_TABLE} (uuid, {_KEY_COLUMNS}, usage, previous_usage, decreased,
                          description, reported_at, created, modified)
    SELECT gen_random_uuid(), k.resource_id, k.component_type, k.billing_period, k.username, k.usage,
           k.previous_usage, k.decreased, '', %s, %s, %s
    FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::text[], %s::numeric[], %s::numeric[],
                %s::boolean[]) AS k({_KEY_COLUMNS}, usage, previous_usage, decreased)
    ON CONFLICT ({_KEY_COLUMNS}) DO UPDATE SET
        usage = EXCLUDED.usage,
        previous_usage = EXCLUDED.previous_usage,
        decreased = EXCLUDED.decreased,
        reported_at = EXCLUDED.reported_at,
        modified = EXCLUDED.modified
"""  # noqa: S608


_UPSERT_RETURNING_PG = f"""
    INSERT INTO {_TABLE} AS c (uuid, {_KEY_COLUMNS}, usage, previous_usage, decreased,
                               description, reported_at, created, modified)
    SELECT gen_random_uuid(), k.resource_id::bigint, k.component_type, k.billing_period::date, k.username,
           k.usage::numeric, NULL, false, '', %s, %s, %s
    FROM ROWS FROM (json_array_elements_text(%s::json), json_array_elements_text(%s::json),
                    json_array_elements_text(%s::json), json_array_elements_text(%s::json),
                    json_array_elements_text(%s::json)) AS k({_KEY_COLUMNS}, usage)
    ON CONFLICT ({_KEY_COLUMNS}) DO UPDATE SET
        previous_usage = c.usage,
        decreased = EXCLUDED.usage < c.usage,
        usage = EXCLUDED.usage,
        reported_at = EXCLUDED.reported_at,
        modified = EXCLUDED.modified
    WHERE c.usage IS DISTINCT FROM EXCLUDED.usage
    RETURNING c.resource_id, c.component_type, c.billing_period, c.username, c.previous_usage, c.decreased
"""  # noqa: S608


def _set_based_sql() -> bool:
    """PostgreSQL takes a batch as arrays; other databases go through the ORM's statements."""
    return connection.vendor == "postgresql"


def _columns(rows: Iterable[tuple], width: int) -> list[list]:
    columns: list[list] = [[] for _ in range(width)]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


def _stored_usages(keys: list[Key]) -> dict[Key, Decimal]:
    """{key: stored amount} of the rows that exist among `keys`, locked until the transaction ends.

    On PostgreSQL each key is looked up through the unique index in the order given (LATERAL), so
    the plan does not depend on the table's statistics and rows are locked in key order.
    """
    if _set_based_sql():
        with prepared_cursor() as cursor:
            cursor.execute(_SELECT_FOR_UPDATE_PG, _columns(keys, 4))
            return {(r, c, p, n): usage for r, c, p, n, usage in cursor.fetchall()}
    wanted = set(keys)
    resources, components, periods, usernames = (set(column) for column in _columns(keys, 4))
    rows = (
        ComponentUsage.objects.select_for_update()
        .filter(
            resource_id__in=resources,
            component_type__in=components,
            billing_period__in=periods,
            username__in=usernames,
        )
        .order_by("id")
        .values_list("resource_id", "component_type", "billing_period", "username", "usage")
    )
    return {(r, c, p, n): usage for r, c, p, n, usage in rows if (r, c, p, n) in wanted}


def _upsert(changes: list[_Change], reported_at: datetime) -> None:
    """Insert or replace each changed row, in one statement."""
    if _set_based_sql():
        rows = ((*c.key, c.usage, c.previous_usage, c.decreased) for c in changes)
        with prepared_cursor() as cursor:
            now = timezone.now()
            cursor.execute(_UPSERT_PG, [reported_at, now, now, *_columns(rows, 7)])
        return
    ComponentUsage.objects.bulk_create(
        [
            ComponentUsage(
                resource_id=c.key[0],
                component_type=c.key[1],
                billing_period=c.key[2],
                username=c.key[3],
                usage=c.usage,
                previous_usage=c.previous_usage,
                decreased=c.decreased,
                reported_at=reported_at,
            )
            for c in changes
        ],
        update_conflicts=True,
        unique_fields=["resource", "component_type", "billing_period", "username"],
        update_fields=["usage", "previous_usage", "decreased", "reported_at", "modified"],
    )


def _upsert_returning(
    reports: list[UsageReport], keys: list[Key], reported_at: datetime
) -> tuple[list[_Change], list[int]]:
    """A batch whose rows are all different, on PostgreSQL: read, compare and write in one statement.

    The upsert itself sets `previous_usage` and `decreased` from the row it replaces, leaves a row
    holding the same amount untouched, and returns the rows it wrote; a report whose row is not
    returned changed nothing. Rows are written (and locked) in key order. They travel as a JSON
    array per column, which the json module writes in C (where arrays of values would be dumped
    value by value in Python) and the database reads each in one pass; amounts go as decimal
    strings, so nothing passes through a float.
    """
    order = sorted(range(len(reports)), key=keys.__getitem__)
    resource_ids, component_types, periods, usernames = zip(*[keys[i] for i in order], strict=True)
    columns = (resource_ids, component_types, list(map(date.isoformat, periods)), usernames)
    amounts = [str(reports[i].usage) for i in order]
    with prepared_cursor() as cursor:
        now = timezone.now()
        cursor.execute(_UPSERT_RETURNING_PG, [reported_at, now, now, *map(json.dumps, columns), json.dumps(amounts)])
        written = {(r, c, p, n): (previous, decreased) for r, c, p, n, previous, decreased in cursor.fetchall()}
    changes: list[_Change] = []
    outcomes: list[int] = []
    for report, key in zip(reports, keys, strict=True):
        if key not in written:
            outcomes.append(0)
            continue
        previous, decreased = written[key]
        changes.append(_Change(key=key, usage=report.usage, previous_usage=previous, decreased=decreased))
        outcomes.append(1)
    return changes, outcomes


# -- events --------------------------------------------------------------------------------------


def _amount(value) -> str:
    """A usage amount as an exact decimal string without trailing zeros ("2", "1.5")."""
    return format(Decimal(value).normalize(), "f")


def _usage_event(change: _Change, resource: Resource) -> Event:
    _, component_type, billing_period, username = change.key
    return event_build(
        "marketplace_component_usage_decreased" if change.decreased else "marketplace_component_usage_reported",
        scope=("resource", resource.uuid),
        customer=resource.project.customer.uuid,
        project=resource.project.uuid,
        offering=resource.offering.uuid,
        context={
            "component_type": component_type,
            "billing_period": billing_period.isoformat(),
            "username": username,
            "usage": _amount(change.usage),
            "previous_usage": None if change.previous_usage is None else _amount(change.previous_usage),
            "resource_name": resource.name,
        },
    )


def _usage_events_insert(changes: list[_Change]) -> None:
    """One event per change, in order, inserted in one statement."""
    if not changes:
        return
    if _set_based_sql():
        _usage_events_insert_sql(changes)
        wake_dispatcher()
        return
    resources = Resource.objects.select_related("project__customer", "offering").only(
        "uuid", "name", "project__uuid", "project__customer__uuid", "offering__uuid"
    )
    resources = resources.in_bulk({change.key[0] for change in changes})
    events_insert(_usage_event(change, resources[change.key[0]]) for change in changes)


_EVENT = Event._meta.db_table
_RESOURCE = Resource._meta.db_table
_PROJECT = Resource._meta.get_field("project").related_model._meta
_CUSTOMER_TABLE = _PROJECT.get_field("customer").related_model._meta.db_table
_OFFERING_TABLE = Resource._meta.get_field("offering").related_model._meta.db_table

# The events `_usage_event` builds, built by the database from the changes and their resources.
_EVENTS_INSERT_PG = f"""INSERT INTO "{_EVENT}" (uuid, created, event_type, message, actor_username, scope_type,
                          scope_uuid, customer_uuid, project_uuid, resource_uuid, offering_uuid, context)
    SELECT gen_random_uuid(), %s, e.v->>1, '', '', 'resource', r.uuid, c.uuid, p.uuid, r.uuid, o.uuid,
           jsonb_build_object('component_type', e.v->>2, 'billing_period', e.v->>3, 'username', e.v->>4,
                              'usage', e.v->>5, 'previous_usage', e.v->6, 'resource_name', r.name)
    FROM json_array_elements(%s::json) WITH ORDINALITY AS e(v, i)
    JOIN {_RESOURCE} r ON r.id = (e.v->>0)::bigint
    JOIN {_PROJECT.db_table} p ON p.id = r.project_id
    JOIN {_CUSTOMER_TABLE} c ON c.id = p.customer_id
    JOIN {_OFFERING_TABLE} o ON o.id = r.offering_id
    ORDER BY e.i"""  # noqa: S608


def _usage_events_insert_sql(changes: list[_Change]) -> None:
    """The events of `changes`, in order, in one INSERT … SELECT that reads their resources as it goes.

    The same rows as `_usage_event` builds (amounts formatted here, exactly), without a model
    instance per event or a query for the resources first.
    """
    rows = [
        (
            change.key[0],
            "marketplace_component_usage_decreased" if change.decreased else "marketplace_component_usage_reported",
            change.key[1],
            change.key[2].isoformat(),
            change.key[3],
            _amount(change.usage),
            None if change.previous_usage is None else _amount(change.previous_usage),
        )
        for change in changes
    ]
    with prepared_cursor() as cursor:
        cursor.execute(_EVENTS_INSERT_PG, [timezone.now(), json.dumps(rows)])


# -- current usage -------------------------------------------------------------------------------


class _JSONObjectAgg(Aggregate):
    """{key: value} of the grouped rows; a decimal value stays the exact number the database holds."""

    function = "JSONB_OBJECT_AGG"
    output_field = models.JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSON_GROUP_OBJECT", **extra_context)


def _current_usages_refresh(resource_ids: set[int], month: date) -> None:
    """Each resource's `current_usages`: {component: usage} of the month's whole-resource rows.

    Built by the database from the stored decimals (no float on the way), in one UPDATE; a
    resource with no usage that month keeps what it has.
    """
    if not resource_ids:
        return
    if _set_based_sql():
        with prepared_cursor() as cursor:
            cursor.execute(_CURRENT_USAGES_PG, [month, sorted(resource_ids), month])
        return
    this_month = ComponentUsage.objects.filter(resource_id=OuterRef("pk"), billing_period=month, username="")
    usages = (
        this_month.order_by()
        .values("resource_id")
        .annotate(usages=_JSONObjectAgg("component_type", "usage"))
        .values("usages")
    )
    Resource.objects.filter(id__in=resource_ids).filter(Exists(this_month)).update(current_usages=Subquery(usages))


# The statement the ORM writes above, composed once: each resource's whole-resource rows of the month.
_CURRENT_USAGES_PG = f"""
    UPDATE {_RESOURCE} r SET current_usages = (
        SELECT JSONB_OBJECT_AGG(u.component_type, u.usage) FROM {_TABLE} u
        WHERE u.resource_id = r.id AND u.billing_period = %s AND u.username = ''
    )
    WHERE r.id = ANY(%s::bigint[]) AND EXISTS (
        SELECT 1 FROM {_TABLE} u WHERE u.resource_id = r.id AND u.billing_period = %s AND u.username = ''
    )
"""  # noqa: S608
