"""One filter set per model; the REST API and the portal use the same ones."""

import django_filters

from common.api.fields import parse_uuid

from .models import Customer, Project, RoleGrant, User


class CustomerFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    native_name = django_filters.CharFilter(lookup_expr="icontains")
    abbreviation = django_filters.CharFilter(lookup_expr="icontains")
    backend_id = django_filters.CharFilter(lookup_expr="exact")
    email = django_filters.CharFilter(lookup_expr="icontains")
    o = django_filters.OrderingFilter(fields=("name", "abbreviation", "created", "native_name"))

    class Meta:
        model = Customer
        fields = []


class ProjectFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    description = django_filters.CharFilter(lookup_expr="icontains")
    backend_id = django_filters.CharFilter(lookup_expr="exact")
    customer = django_filters.UUIDFilter(field_name="customer__uuid")
    customer_name = django_filters.CharFilter(field_name="customer__name", lookup_expr="icontains")
    abbreviation = django_filters.CharFilter(field_name="customer__abbreviation", lookup_expr="icontains")
    o = django_filters.OrderingFilter(
        fields=(("name", "name"), ("created", "created"), ("customer__name", "customer_name"), ("end_date", "end_date"))
    )

    class Meta:
        model = Project
        fields = []


class UserFilter(django_filters.FilterSet):
    username = django_filters.CharFilter(lookup_expr="exact")
    full_name = django_filters.CharFilter(lookup_expr="icontains")
    email = django_filters.CharFilter(lookup_expr="icontains")
    cuid = django_filters.CharFilter(lookup_expr="exact")
    o = django_filters.OrderingFilter(fields=("username", "full_name", "date_joined"))

    class Meta:
        model = User
        fields = []


class RoleGrantFilter(django_filters.FilterSet):
    """Filters for `list_users`: `role` takes a role name or uuid."""

    role = django_filters.CharFilter(method="filter_role")
    user = django_filters.UUIDFilter(field_name="user__uuid")
    user_url = django_filters.CharFilter(method="filter_user_url")

    class Meta:
        model = RoleGrant
        fields = []

    def filter_role(self, queryset, name, value):
        key = parse_uuid(value)
        return queryset.filter(role__uuid=key) if key else queryset.filter(role__name=value)

    def filter_user_url(self, queryset, name, value):
        key = parse_uuid(value)
        return queryset.filter(user__uuid=key) if key else queryset.none()
