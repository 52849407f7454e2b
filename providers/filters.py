import django_filters

from .models import Provider


class ProviderFilter(django_filters.FilterSet):
    slug = django_filters.CharFilter()
    name = django_filters.CharFilter(lookup_expr="icontains")
    customer_uuid = django_filters.UUIDFilter(field_name="customer__uuid")
    status = django_filters.ChoiceFilter(choices=Provider.Status.choices)
    available = django_filters.BooleanFilter()
    o = django_filters.OrderingFilter(fields=("slug", "name", "created"))

    class Meta:
        model = Provider
        fields = []
