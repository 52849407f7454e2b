import django_filters

from .models import UnmatchedApelRecord


class UnmatchedApelRecordFilter(django_filters.FilterSet):
    provider = django_filters.CharFilter(field_name="provider__slug")
    site_name = django_filters.CharFilter()
    format = django_filters.CharFilter()

    class Meta:
        model = UnmatchedApelRecord
        fields = []
