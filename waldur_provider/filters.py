import django_filters

from federation.models import Customer


class ServiceProviderFilter(django_filters.FilterSet):
    """Service providers are provider organisations; Waldur's agent looks its own up by `customer_uuid`."""

    customer_uuid = django_filters.UUIDFilter(field_name="uuid")
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Customer
        fields = []
