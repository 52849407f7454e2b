"""`AmongIds`: a filter on the primary key by a subquery that PostgreSQL reads first, on its own.

`id__in=subquery` becomes a semi-join, and the planner places it by its estimate of the subquery's rows;
when that estimate is far off (a visibility rule whose every part might be large, but for most people is a
few rows), or when the query joins more than eight tables (a list's select_related, past which PostgreSQL
keeps the written join order and applies the semi-join last), it reads the whole table first.
`id = ANY(ARRAY(subquery))` runs the subquery once, as an init plan, and fetches the rows by primary key.
Other databases (SQLite under `make run`) get the plain `IN`.
"""

from django.db.models import BooleanField, F, Func, Subquery


class AmongIds(Func):
    """True for the rows whose primary key the subquery (a `.values("id")` queryset) returns; use in
    `queryset.filter(AmongIds(ids))`. The subquery's rows are held in memory: keep it to what one person
    sees or one page shows."""

    output_field = BooleanField()

    def __init__(self, ids):
        super().__init__(F("pk"), Subquery(ids))

    def as_sql(self, compiler, connection, **extra_context):
        (column, column_params), (ids, ids_params) = (compiler.compile(e) for e in self.get_source_expressions())
        template = "{column} = ANY(ARRAY{ids})" if connection.vendor == "postgresql" else "{column} IN {ids}"
        return template.format(column=column, ids=ids), (*column_params, *ids_params)
