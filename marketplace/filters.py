"""One filter set per model; the REST API and the portal use the same ones. Invalid values are a 400."""

import django_filters
from django import forms

from common.api.fields import parse_uuid

from .models import Offering, OfferingState, Order, OrderState, OrderType, Plan, Resource, ResourceState, StateChange


class UrlOrUuidField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        key = parse_uuid(value)
        if key is None:
            raise forms.ValidationError("Expected a URL or UUID of the object.")
        return key


class UrlFilter(django_filters.Filter):
    """A related object given by its URL (any URL ending in its uuid) or its bare uuid."""

    field_class = UrlOrUuidField


class StateChoiceField(forms.MultipleChoiceField):
    """Several states, repeated (`state=OK&state=Erred`) or comma-separated (`state=Creating,OK`), in any
    casing (`erred`, `Erred`): each is read as the state it names."""

    def to_python(self, value):
        canonical = {str(key).lower(): key for key, _ in self.choices}
        names = [name.strip() for item in super().to_python(value) for name in str(item).split(",")]
        return [canonical.get(name.lower(), name) for name in names if name]


class StateFilter(django_filters.MultipleChoiceFilter):
    """States of the row itself: no join, so no row can come twice and no DISTINCT is asked (over a list's
    joined columns it made PostgreSQL hash every matching row before taking a page)."""

    field_class = StateChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class OfferingFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    customer = UrlFilter(field_name="customer__uuid")
    customer_uuid = django_filters.UUIDFilter(field_name="customer__uuid")
    state = StateFilter(choices=OfferingState.choices)
    type = django_filters.CharFilter(lookup_expr="exact")
    o = django_filters.OrderingFilter(fields=("name", "created", "type", "state"))

    class Meta:
        model = Offering
        fields = []


class PlanFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    offering = UrlFilter(field_name="offering__uuid")
    offering_uuid = django_filters.UUIDFilter(field_name="offering__uuid")
    archived = django_filters.BooleanFilter()

    class Meta:
        model = Plan
        fields = []


class OrderFilter(django_filters.FilterSet):
    state = StateFilter(choices=OrderState.choices)
    type = StateFilter(choices=OrderType.choices)
    project = UrlFilter(field_name="project__uuid")
    project_uuid = django_filters.UUIDFilter(field_name="project__uuid")
    customer_uuid = django_filters.UUIDFilter(field_name="project__customer__uuid")
    offering = UrlFilter(field_name="offering__uuid")
    offering_uuid = django_filters.UUIDFilter(field_name="offering__uuid")
    provider_uuid = django_filters.UUIDFilter(field_name="offering__customer__uuid")
    resource = UrlFilter(field_name="resource__uuid")
    resource_uuid = django_filters.UUIDFilter(field_name="resource__uuid")
    created_by_uuid = django_filters.UUIDFilter(field_name="created_by__uuid")
    query = django_filters.CharFilter(method="filter_query", label="Resource, offering or project name contains")
    o = django_filters.OrderingFilter(
        fields=(
            "created",
            "modified",
            "state",
            "type",
            ("resource__name", "resource_name"),
            ("offering__name", "offering_name"),
            ("project__name", "project_name"),
        )
    )

    class Meta:
        model = Order
        fields = []

    def filter_query(self, queryset, name, value):
        """One IN over a UNION of three lookups rather than an OR across three joined tables: each part is
        answered by its table's trigram index on the name (migrations 0004 here and 0007 of federation), the
        OR by reading every order."""
        return queryset.filter(id__in=self.matching_ids(value))

    @staticmethod
    def matching_ids(value):
        """The ids of the orders whose resource, offering or project name contains `value`, as a UNION."""
        matching = [
            Order.objects.order_by().filter(**{f"{relation}__name__icontains": value}).values("id")
            for relation in ("resource", "offering", "project")
        ]
        return matching[0].union(*matching[1:])


class ResourceFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    name_exact = django_filters.CharFilter(field_name="name", lookup_expr="exact")
    project = UrlFilter(field_name="project__uuid")
    project_uuid = django_filters.UUIDFilter(field_name="project__uuid")
    customer_uuid = django_filters.UUIDFilter(field_name="project__customer__uuid")
    offering = UrlFilter(field_name="offering__uuid")
    offering_uuid = django_filters.UUIDFilter(field_name="offering__uuid")
    provider_uuid = django_filters.UUIDFilter(field_name="offering__customer__uuid")
    state = StateFilter(choices=ResourceState.choices)
    backend_id = django_filters.CharFilter(lookup_expr="exact")
    paused = django_filters.BooleanFilter()
    o = django_filters.OrderingFilter(fields=("name", "created", "modified", "state"))

    class Meta:
        model = Resource
        fields = []


class StateChangeFilter(django_filters.FilterSet):
    order_uuid = django_filters.UUIDFilter(field_name="order__uuid")
    resource_uuid = django_filters.UUIDFilter(field_name="resource__uuid")

    class Meta:
        model = StateChange
        fields = []
