"""Reading captured SQL (`CaptureQueriesContext`) in tests: which columns an UPDATE set, whether a row was locked."""

import re


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
