import django_filters

from .models import Share


class ShareFilter(django_filters.FilterSet):
    offering_uuid = django_filters.UUIDFilter(field_name="offering__uuid")
    customer_uuid = django_filters.UUIDFilter(field_name="customer__uuid")
    project_uuid = django_filters.UUIDFilter(field_name="project__uuid")
    parent_uuid = django_filters.UUIDFilter(field_name="parent__uuid")
    component_type = django_filters.CharFilter()
    root = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label="Customer shares only")

    class Meta:
        model = Share
        fields = []
