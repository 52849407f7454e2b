"""Serializer building blocks shared by every app's API."""

from operator import attrgetter

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers


class ReadListSerializer(serializers.ListSerializer):
    """Renders a page of rows with each field's attribute path resolved once per page, not per row and field.

    The output is exactly what `Serializer.to_representation` gives. A field takes the fast path
    when it reads a plain attribute path (no `source="*"`, no relation field, no own
    `get_attribute`); for it, `operator.attrgetter` replaces DRF's generic lookup. Anything
    unusual on a row (a missing attribute, a callable, a missing related object) is handed to
    the field's own `get_attribute`, so defaults, nulls and SkipField behave as in DRF.
    """

    def to_representation(self, data):
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        plan = [self._plan(field) for field in self.child._readable_fields]
        return [self._row(instance, plan) for instance in rows]

    @staticmethod
    def _plan(field):
        fast = (
            field.source != "*"
            and bool(field.source_attrs)
            and not isinstance(field, relations.RelatedField | relations.ManyRelatedField | serializers.BaseSerializer)
            and type(field).get_attribute is drf_fields.Field.get_attribute
        )
        getter = attrgetter(".".join(field.source_attrs)) if fast else None
        return field.field_name, field, getter, field.to_representation

    @staticmethod
    def _row(instance, plan) -> dict:
        row = {}
        for name, field, getter, represent in plan:
            value = _MISSING
            if getter is not None:
                try:
                    value = getter(instance)
                except (AttributeError, ObjectDoesNotExist):
                    value = _MISSING
                if callable(value):
                    value = _MISSING
            if value is _MISSING:
                try:
                    value = field.get_attribute(instance)
                except drf_fields.SkipField:
                    continue
                if isinstance(value, relations.PKOnlyObject) and value.pk is None:
                    value = None
            row[name] = None if value is None else represent(value)
        return row


_MISSING = object()


def optional_text(**kwargs):
    """An optional text field that also accepts null (Waldur clients send nulls for unset fields)."""
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, **kwargs)
