"""One loader for service arguments that take "the object or its uuid".

Services accept either a model instance (what views and other services hold) or its uuid (what
tasks, management commands and the provider protocol hold). `load_row` turns either into a row of
the given queryset — re-read, so a locking queryset (`select_for_update()`) locks it — and answers
NotFound for a uuid that is malformed or matches nothing, never a 500.
"""

from __future__ import annotations

import uuid as uuid_lib

from django.db.models import Model, QuerySet

from .exceptions import NotFound


def load_row(rows: QuerySet, ref: Model | uuid_lib.UUID | str, *, missing: str | None = None) -> Model:
    """The row of `rows` that `ref` (an instance, by primary key, or a uuid) names.

    `missing` is the NotFound message; by default "<Model> not found.".
    """
    if isinstance(ref, Model):
        found = rows.filter(pk=ref.pk).first()
    else:
        try:
            key = ref if isinstance(ref, uuid_lib.UUID) else uuid_lib.UUID(str(ref))
        except ValueError:
            key = None
        found = None if key is None else rows.filter(uuid=key).first()
    if found is None:
        raise NotFound(missing or f"{rows.model._meta.object_name} not found.")
    return found
