"""Plain updates: write only what changed, under a row lock.

`update_fields(instance, name=value, ...)` locks the instance's row (`SELECT ... FOR UPDATE`),
compares each new value with the value the row holds now, and saves only the columns that differ
(with the model's `auto_now` columns, such as `modified`). Two people editing different fields of
the same object at once therefore both keep their change, and a form sent back unchanged writes
nothing. The lock lasts until the caller's outermost transaction ends.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from .exceptions import NotFound


def _auto_now_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]


def _comparable(field, value):
    """`value` as the column would hold it: a related instance as its key, "2025-01-31" as a date."""
    if field.is_relation:
        return value.pk if isinstance(value, Model) else value
    try:
        return field.to_python(value)
    except ValidationError:
        return value


def update_fields(instance: Model, **changes) -> list[str]:
    """Apply `changes` to `instance` and save the changed columns; returns their names ([] when none).

    Foreign keys may be given as instances or as primary keys (`customer=...`). The instance keeps the
    new values; its other attributes are left as they were loaded.
    """
    if not changes:
        return []
    model = type(instance)
    fields = {name: model._meta.get_field(name) for name in changes}
    with transaction.atomic():
        rows = model._base_manager.select_for_update().filter(pk=instance.pk)
        current = rows.values(*(f.attname for f in fields.values())).first()
        if current is None:
            raise NotFound(f"{model._meta.object_name} not found.")
        changed = [
            name for name, value in changes.items() if current[fields[name].attname] != _comparable(fields[name], value)
        ]
        for name, value in changes.items():
            setattr(instance, name, value)
        if changed:
            instance.save(update_fields=[*changed, *_auto_now_fields(model)])
    return changed
