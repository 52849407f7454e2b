import django_filters

from .models import Policy, PolicyKind, PolicyScope


class PolicyFilter(django_filters.FilterSet):
    scope_type = django_filters.MultipleChoiceFilter(choices=PolicyScope.choices)
    kind = django_filters.MultipleChoiceFilter(choices=PolicyKind.choices)
    project_uuid = django_filters.UUIDFilter(field_name="project__uuid")
    customer_uuid = django_filters.UUIDFilter(method="filter_customer", label="Customer UUID")
    offering_uuid = django_filters.UUIDFilter(field_name="offering__uuid")
    component_type = django_filters.CharFilter()
    has_fired = django_filters.BooleanFilter(method="filter_has_fired", label="An active firing")

    class Meta:
        model = Policy
        fields = []

    def filter_customer(self, queryset, name, value):
        """The customer's own policies and those of its projects."""
        return queryset.filter(customer__uuid=value) | queryset.filter(project__customer__uuid=value)

    def filter_has_fired(self, queryset, name, value):
        active = queryset.filter(firings__active=True).values("id")
        return queryset.filter(id__in=active) if value else queryset.exclude(id__in=active)
