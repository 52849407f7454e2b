import datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from .models import Event
from .types import event_type_names


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, taken to UTC: any offset Python reads (up to ±24 h) is then one the database reads
    too (PostgreSQL refuses displacements beyond ±15:59); a moment outside the years 1–9999 in UTC is refused."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError("Enter a moment between the years 1 and 9999 (UTC).", code="invalid") from None


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class EventFilter(django_filters.FilterSet):
    event_type = django_filters.MultipleChoiceFilter(
        choices=[(name, name) for name in event_type_names()], help_text="Repeat to match any of several types."
    )
    scope_type = django_filters.CharFilter()
    customer_uuid = django_filters.UUIDFilter()
    project_uuid = django_filters.UUIDFilter()
    resource_uuid = django_filters.UUIDFilter()
    order_uuid = django_filters.UUIDFilter()
    offering_uuid = django_filters.UUIDFilter()
    provider_uuid = django_filters.UUIDFilter()
    actor_uuid = django_filters.UUIDFilter()
    created_from = UTCIsoDateTimeFilter(field_name="created", lookup_expr="gte")
    created_to = UTCIsoDateTimeFilter(field_name="created", lookup_expr="lt")

    class Meta:
        model = Event
        fields = []
