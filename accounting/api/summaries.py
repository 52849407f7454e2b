"""`/api/usage-summaries/`: each visible resource's usage against its limits, by component, and the
same added up per project (`by-project/`) and per customer (`by-customer/`).

A page costs a fixed number of queries whatever its size: the page of resources (or groups), their
resources, the offerings' components, and the grouped usage (see `accounting.summaries`).
"""

from __future__ import annotations

import dataclasses

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounting.filters import UsageSummaryFilter
from accounting.summaries import usage_summaries, usage_summary_totals
from common.api.fields import UrlField
from common.api.viewsets import BaseViewSet
from federation.models import Customer, Project
from marketplace.models import Resource


@extend_schema_field(OpenApiTypes.STR)
class PlainDecimalField(serializers.Field):
    """An exact decimal as a string without trailing zeros ("190", "0.25"); null stays null."""

    def to_representation(self, value):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text


class PeriodSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(allow_null=True, help_text="The first day after the period; null for `total`.")


class ComponentSummarySerializer(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    measured_unit = serializers.CharField(allow_blank=True)
    billing_type = serializers.CharField(allow_null=True)
    period = PeriodSerializer()
    limit = PlainDecimalField(allow_null=True)
    usage = PlainDecimalField(source="usage_period", help_text="The sum of the period's monthly totals.")
    usage_this_month = PlainDecimalField(source="usage_month")
    remaining = PlainDecimalField(allow_null=True)
    percent = PlainDecimalField(allow_null=True, help_text="Usage in the period as a percentage of the limit.")
    daily_rate = PlainDecimalField(allow_null=True, help_text="Recent usage per day (exponentially weighted).")
    forecast = serializers.CharField(
        source="forecast.state", help_text="reached, expected (on forecast_date), not_at_this_rate or no_limit."
    )
    forecast_date = serializers.DateField(source="forecast.day", allow_null=True)
    reported_at = serializers.DateTimeField(allow_null=True)


@dataclasses.dataclass(frozen=True)
class _ResourceRow:
    resource: Resource
    components: list


class ResourceUsageSummarySerializer(serializers.Serializer):
    resource = UrlField("marketplace-resource-detail", source="resource.uuid")
    resource_uuid = serializers.UUIDField(source="resource.uuid")
    resource_name = serializers.CharField(source="resource.name")
    state = serializers.CharField(source="resource.state")
    offering_uuid = serializers.UUIDField(source="resource.offering.uuid")
    offering_name = serializers.CharField(source="resource.offering.name")
    project_uuid = serializers.UUIDField(source="resource.project.uuid")
    project_name = serializers.CharField(source="resource.project.name")
    customer_uuid = serializers.UUIDField(source="resource.project.customer.uuid")
    customer_name = serializers.CharField(source="resource.project.customer.name")
    components = ComponentSummarySerializer(many=True)


class ComponentTotalSerializer(serializers.Serializer):
    offering_uuid = serializers.UUIDField(source="offering.uuid")
    offering_name = serializers.CharField(source="offering.name")
    type = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    measured_unit = serializers.CharField(allow_blank=True)
    period_kind = serializers.CharField()
    resource_count = serializers.IntegerField()
    limit = PlainDecimalField(allow_null=True, help_text="The sum of the limits of the resources that have one.")
    usage = PlainDecimalField(source="usage_period")
    usage_this_month = PlainDecimalField(source="usage_month")
    percent = PlainDecimalField(allow_null=True)
    reached_count = serializers.IntegerField(help_text="Resources that have reached their limit.")


@dataclasses.dataclass(frozen=True)
class _GroupRow:
    uuid: object
    name: str
    customer: Customer
    components: list


class GroupUsageSummarySerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    name = serializers.CharField()
    customer_uuid = serializers.UUIDField(source="customer.uuid")
    customer_name = serializers.CharField(source="customer.name")
    components = ComponentTotalSerializer(many=True)


class UsageSummaryViewSet(BaseViewSet):
    """Usage against limits per resource and component, in the component's limit period, with a forecast."""

    serializer_class = ResourceUsageSummarySerializer
    filterset_class = UsageSummaryFilter

    def get_queryset(self):
        return (
            Resource.objects.visible_to(self.request.user)
            .select_related("offering", "project__customer")
            .order_by("project__customer__name", "project__name", "name", "id")
        )

    def list(self, request, *args, **kwargs):
        if request.method == "HEAD":
            return super().list(request, *args, **kwargs)
        resources = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(resources)
        summaries = usage_summaries(page)
        rows = [_ResourceRow(resource, summaries[resource.id]) for resource in page]
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def retrieve(self, request, uuid=None):
        """One resource's summary (404 when the resource is not visible)."""
        resource = self.get_object()
        row = _ResourceRow(resource, usage_summaries([resource])[resource.id])
        return Response(self.get_serializer(row).data)

    @extend_schema(responses=GroupUsageSummarySerializer(many=True))
    @action(detail=False, url_path="by-project", serializer_class=GroupUsageSummarySerializer)
    def by_project(self, request):
        """Per project that has visible resources: each offering component's usage and limits added up."""
        resources = self.filter_queryset(self.get_queryset())
        groups = Project.objects.filter(id__in=resources.values("project_id")).select_related("customer")
        return self._groups(groups.order_by("customer__name", "name", "id"), resources, "project_id")

    @extend_schema(responses=GroupUsageSummarySerializer(many=True))
    @action(detail=False, url_path="by-customer", serializer_class=GroupUsageSummarySerializer)
    def by_customer(self, request):
        """Per customer that has visible resources: each offering component's usage and limits added up."""
        resources = self.filter_queryset(self.get_queryset())
        groups = Customer.objects.filter(id__in=resources.values("project__customer_id"))
        return self._groups(groups.order_by("name", "id"), resources, "project__customer_id")

    def _groups(self, groups, resources, field):
        page = self.paginate_queryset(groups)
        members = list(resources.filter(**{f"{field}__in": [group.id for group in page]}))
        key = (lambda r: r.project_id) if field == "project_id" else (lambda r: r.project.customer_id)
        totals = usage_summary_totals(members, usage_summaries(members), key=key)
        rows = [
            _GroupRow(group.uuid, group.name, getattr(group, "customer", group), totals.get(group.id, []))
            for group in page
        ]
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


def register(router):
    router.register("usage-summaries", UsageSummaryViewSet, basename="usage-summary")
