"""`AmongIds`: a filter on a key by a subquery that PostgreSQL reads first, on its own.

`id__in=subquery` becomes a semi-join, and the planner places it by its estimate of the subquery's rows;
when that estimate is far off (a visibility rule whose every part might be large, but for most people is a
few rows), or when the query joins more than eight tables (a list's select_related, past which PostgreSQL
keeps the written join order and applies the semi-join last), it reads the whole table first.
`id = ANY(ARRAY(subquery))` runs the subquery once, as an init plan, and fetches the rows by primary key.
On another column (a foreign key), the same form is checked against each row as a plain comparison with
the values read once, which an index-only scan can apply without joining the related table.
Other databases (SQLite under `make run`) get the plain `IN`.
"""

from django.db.models import BooleanField, F, Func, Subquery


class AmongIds(Func):
    """True for the rows whose primary key (or `field`) the subquery (a `.values("id")` queryset) returns;
    use in `queryset.filter(AmongIds(ids))`. The subquery's rows are held in memory: keep it to what one
    person sees or one page shows. A NULL `field` is among nothing, as with `field__in`."""

    output_field = BooleanField()

    def __init__(self, ids, field: str = "pk"):
        super().__init__(F(field), Subquery(ids))

    def as_sql(self, compiler, connection, **extra_context):
        (column, column_params), (ids, ids_params) = (compiler.compile(e) for e in self.get_source_expressions())
        template = "{column} = ANY(ARRAY{ids})" if connection.vendor == "postgresql" else "{column} IN {ids}"
        return template.format(column=column, ids=ids), (*column_params, *ids_params)
