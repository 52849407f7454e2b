"""Serializer building blocks shared by every app's API."""

import copy
from operator import attrgetter

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
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
        plan = [self._plan(field) for field in self.child._readable_fields]
        if isinstance(data, PageQuerySet):
            paths = _value_paths(data.queryset.model, plan)
            if paths is not None:
                return self._rows_from_values(data.queryset, plan, paths)
            data = list(data.queryset)
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        return [self._row(instance, plan) for instance in rows]

    @staticmethod
    def _rows_from_values(queryset, plan, paths) -> list[dict]:
        """The page read as tuples (no model instances), each field represented from its column."""
        columns = list(dict.fromkeys(paths))
        where = [columns.index(path) for path in paths]
        fields = [(name, index, represent) for (name, _, _, represent), index in zip(plan, where, strict=True)]
        return [
            {name: None if row[index] is None else represent(row[index]) for name, index, represent in fields}
            for row in queryset.values_list(*columns)
        ]

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


class PrototypeFields:
    """A serializer mixin that builds its fields once per class and gives every instance shallow copies.

    DRF builds a ModelSerializer's fields again for every instance (a deep copy of the declared ones,
    then a look at the model for the rest): about a millisecond per response, whatever its size. The
    fields a read serializer gets do not depend on the request, so they are built once; each instance
    binds copies of its own. Nested serializers are still deep-copied."""

    def get_fields(self):
        prototypes = type(self).__dict__.get("_prototype_fields")
        if prototypes is None:
            prototypes = super().get_fields()
            type(self)._prototype_fields = prototypes
        return {
            name: copy.deepcopy(field) if isinstance(field, serializers.BaseSerializer) else copy.copy(field)
            for name, field in prototypes.items()
        }


class PageQuerySet:
    """A page of a list not yet read: the paginator hands it over when the view asks for rows read as
    values (`rows_from_values = True`), and `ReadListSerializer` reads it so when it can."""

    def __init__(self, queryset):
        self.queryset = queryset


def _value_paths(model, plan) -> list[str] | None:
    """The column path (`customer__uuid`) of every field, when each reads a model field through
    relations that cannot be null; otherwise None (the page is read as instances)."""
    paths = []
    for _, field, getter, _ in plan:
        if getter is None:
            return None
        current = model
        for position, attr in enumerate(field.source_attrs):
            try:
                model_field = current._meta.get_field(attr)
            except FieldDoesNotExist:
                return None
            last = position == len(field.source_attrs) - 1
            if model_field.is_relation:
                if last or model_field.null or model_field.many_to_many or model_field.one_to_many:
                    return None
                current = model_field.related_model
            elif not last or not model_field.concrete:
                return None
        paths.append("__".join(field.source_attrs))
    return paths


def optional_text(**kwargs):
    """An optional text field that also accepts null (Waldur clients send nulls for unset fields)."""
    return serializers.CharField(required=False, allow_blank=True, allow_null=True, **kwargs)
