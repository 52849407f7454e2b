"""Indexes on the sort keys of the portal's and the API's lists of resources and orders.

Each list ends its ordering with the id, so each index does too: PostgreSQL then reads the first rows of
a page straight from the index, newest or oldest first, instead of sorting every row of the table (the
lists, the dashboard's and the staff queues' scans of recently changed resources, the queues' oldest
orders of a state). Plain B-tree indexes, the same SQL on PostgreSQL and SQLite; the model state does not
change (they are named here, not in the models' Meta).
"""

from django.db import migrations

INDEXES = {
    "marketplace_resource_created_id": ("marketplace_resource", ("created", "id")),
    "marketplace_resource_modified_id": ("marketplace_resource", ("modified", "id")),
    "marketplace_resource_name_id": ("marketplace_resource", ("name", "id")),
    "marketplace_resource_state_modified_id": ("marketplace_resource", ("state", "modified", "id")),
    "marketplace_order_created_id": ("marketplace_order", ("created", "id")),
    "marketplace_order_modified_id": ("marketplace_order", ("modified", "id")),
    "marketplace_order_state_created_id": ("marketplace_order", ("state", "created", "id")),
    "marketplace_order_state_modified_id": ("marketplace_order", ("state", "modified", "id")),
}
# The orders waiting for a review, oldest first, whichever side they wait for (the dashboard's queue):
# few rows, while an index on all orders by creation would be read from the oldest, long done, onwards.
PENDING = "marketplace_order_pending_created_id"


def _create(name: str, table: str, columns: tuple[str, ...]) -> migrations.RunSQL:
    quoted = ", ".join(f'"{column}"' for column in columns)
    return migrations.RunSQL(
        f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({quoted})',
        reverse_sql=f'DROP INDEX IF EXISTS "{name}"',
    )


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0008_order_reject_reason"),
    ]

    operations = [
        *(_create(name, table, columns) for name, (table, columns) in INDEXES.items()),
        migrations.RunSQL(
            f'CREATE INDEX IF NOT EXISTS "{PENDING}" ON "marketplace_order" ("created", "id") '
            "WHERE \"state\" IN ('pending-consumer', 'pending-provider')",
            reverse_sql=f'DROP INDEX IF EXISTS "{PENDING}"',
        ),
    ]
