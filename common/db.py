"""Trigram indexes for the case-insensitive text filters (`name=glacier` is `icontains`).

On PostgreSQL, Django turns `icontains` into `UPPER(column::text) LIKE UPPER('%glacier%')`; a GIN
index with `gin_trgm_ops` over that same expression lets the planner answer it (and the exact count
a page needs) without reading every row. Other databases (SQLite under `make run`) keep the plain
scan: the operation does nothing there, and the filters work the same.
"""

from django.db import migrations, transaction

EXTENSION_HELP = (
    "Could not create the PostgreSQL extension pg_trgm, which the text-filter indexes need: {error}\n"
    "pg_trgm ships with PostgreSQL (Debian: postgresql-contrib, part of the server package since 10). "
    "Either let the migrating user create it (it is a trusted extension: the database owner may, "
    "PostgreSQL 13 and later), or have a superuser run once, in this database:\n"
    "    CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
    "then run the migration again."
)


def index_name(table: str, column: str) -> str:
    return f"{table}_{column}_trgm"[:63]


class TrigramIndexes(migrations.operations.base.Operation):
    """Create (or drop, backwards) `gin_trgm_ops` indexes on UPPER(column) for each column of a table."""

    reduces_to_sql = False
    reversible = True

    def __init__(self, table: str, columns: list[str]):
        self.table = table
        self.columns = columns

    def state_forwards(self, app_label, state):
        """Expression indexes on PostgreSQL only: nothing in the model state changes."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        try:
            with transaction.atomic(using=schema_editor.connection.alias), schema_editor.connection.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as error:
            raise RuntimeError(EXTENSION_HELP.format(error=error)) from error
        quote = schema_editor.quote_name
        for column in self.columns:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(index_name(self.table, column))} "
                f"ON {quote(self.table)} USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)"
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in self.columns:
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index_name(self.table, column))}")

    def describe(self):
        return f"Trigram indexes on {self.table} ({', '.join(self.columns)})"

    def deconstruct(self):
        return self.__class__.__qualname__, [], {"table": self.table, "columns": self.columns}
