"""`prepared_cursor()`: a cursor for the constant statements a hot path runs over and over (PostgreSQL).

Django's cursors quote every parameter into the SQL text in Python, which for a batch's arrays costs
more than the statement itself, and PostgreSQL then parses and plans the text anew each time. This
cursor sends the parameters apart from the statement (server-side binding: values go out as binary)
and prepares the statement on its connection the first time it runs (psycopg keeps the prepared
statements per connection), so the database parses and plans it once per connection.

Use it only for statement texts that are constants; it goes through Django's cursor wrappers, so
queries are logged and counted as any other.
"""

import contextlib
import functools

from django.db import connection

# Django opens connections with psycopg's `prepare_threshold` None, under which psycopg prepares nothing,
# even when asked. A threshold no statement reaches lets psycopg prepare the ones asked for, and only them
# (Django's own cursors bind on the client side, and those are never prepared).
ONLY_WHEN_ASKED = 2**31 - 1


@contextlib.contextmanager
def prepared_cursor():
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        connection.connection.prepare_threshold = ONLY_WHEN_ASKED
    with connection.wrap_database_errors:
        raw = _cursor_class()(connection.connection)
    cursor = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with cursor:
        yield cursor


@functools.cache
def _cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor  # imports psycopg: PostgreSQL only

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

        def _send_query_prepared(self, name, pgq, *, binary=None):
            # psycopg keeps the statement it ran (which Django's query log reads) only for statements it
            # does not prepare: keep it for these too, so that they are logged and counted as any other.
            self._query = pgq
            return super()._send_query_prepared(name, pgq, binary=binary)

    return PreparedCursor
