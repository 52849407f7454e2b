import django_filters

from marketplace.models import Resource, ResourceState

from .models import ComponentUsage


class ComponentUsageFilter(django_filters.FilterSet):
    resource_uuid = django_filters.UUIDFilter(field_name="resource__uuid")
    offering_uuid = django_filters.UUIDFilter(field_name="resource__offering__uuid")
    project_uuid = django_filters.UUIDFilter(field_name="resource__project__uuid")
    customer_uuid = django_filters.UUIDFilter(field_name="resource__project__customer__uuid")
    type = django_filters.CharFilter(field_name="component_type")
    date_before = django_filters.DateFilter(field_name="billing_period", lookup_expr="lte")
    date_after = django_filters.DateFilter(field_name="billing_period", lookup_expr="gte")
    billing_period = django_filters.DateFilter()
    username = django_filters.CharFilter(method="filter_username")
    o = django_filters.OrderingFilter(fields=(("billing_period", "billing_period"), ("usage", "usage")))

    class Meta:
        model = ComponentUsage
        fields = []

    def filter_username(self, queryset, name, value):
        """Totals by default; `username=<name>` for one user's rows, `username=*` for all per-user rows."""
        if value == "*":
            return queryset.exclude(username="")
        return queryset.filter(username=value)

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("username"):
            queryset = queryset.filter(username="")
        return queryset


class UsageSummaryFilter(django_filters.FilterSet):
    """Which resources' usage summaries to list; the resources' own uuids, as in the usage filter."""

    resource_uuid = django_filters.UUIDFilter(field_name="uuid")
    offering_uuid = django_filters.UUIDFilter(field_name="offering__uuid")
    project_uuid = django_filters.UUIDFilter(field_name="project__uuid")
    customer_uuid = django_filters.UUIDFilter(field_name="project__customer__uuid")
    provider_uuid = django_filters.UUIDFilter(field_name="offering__customer__uuid")
    state = django_filters.MultipleChoiceFilter(choices=ResourceState.choices)

    class Meta:
        model = Resource
        fields = []
