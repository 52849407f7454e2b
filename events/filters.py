import django_filters

from .models import Event
from .types import event_type_names


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
    created_from = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="gte")
    created_to = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="lt")

    class Meta:
        model = Event
        fields = []
