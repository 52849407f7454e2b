"""common.prepared.prepared_cursor: the statement is prepared once per connection, and still counted as a query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.prepared import prepared_cursor

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

STATEMENT = "SELECT count(*) FROM unnest(%s::bigint[]) AS v WHERE v > %s"


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_prepared_once_and_answers_with_the_values_given():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are a PostgreSQL feature; other databases never use this cursor")
    with CaptureQueriesContext(connection) as queries:
        answers = []
        for bound in (0, 2, 3):
            with prepared_cursor() as cursor:
                cursor.execute(STATEMENT, [[1, 2, 3, 4], bound])
                answers.append(cursor.fetchone()[0])
    assert answers == [4, 2, 1]
    assert len(queries) == 3
    assert all(query["sql"].startswith("SELECT count(*) FROM unnest(") for query in queries.captured_queries)
    prepared = [statement for statement in _prepared_statements() if "unnest($1::bigint[])" in statement]
    assert len(prepared) == 1, prepared
