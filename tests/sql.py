"""Reading SQL in tests: which columns a captured UPDATE set (`CaptureQueriesContext`), whether a row was
locked, how PostgreSQL plans a query."""

import re

from django.db import connection


def updated_columns(queries, model) -> list[set[str]]:
    """The columns each captured UPDATE of `model`'s table sets, in order."""
    prefix = f'UPDATE "{model._meta.db_table}" SET '
    found = []
    for query in queries:
        if query["sql"].startswith(prefix):
            assignments = query["sql"][len(prefix) :].split(" WHERE ", 1)[0]
            found.append(set(re.findall(r'"(\w+)" = ', assignments)))
    return found


def locks_rows(queries, model) -> bool:
    """Whether a captured SELECT read `model`'s table with FOR UPDATE."""
    table = f'FROM "{model._meta.db_table}"'
    return any(q["sql"].startswith("SELECT") and table in q["sql"] and "FOR UPDATE" in q["sql"] for q in queries)


def index_plan(queryset) -> str:
    """How PostgreSQL finds the matching rows (what the exact count of a page reads).

    Tiny test tables favour a sequential scan, and the order of a page may favour walking a
    b-tree; both are priced out, so what is left shows whether an index answers the filter itself.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        try:
            return queryset.order_by().explain()
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on")
            cursor.execute("SET LOCAL enable_indexscan = on")
