"""Usage reports of Waldur site agents (`report` mode), at the URLs Waldur serves them.

`marketplace-component-usages/` itself (the totals, as read) is accounting's; only its two write
actions are added here, and the per-user list `marketplace-component-user-usages/`.
"""

from datetime import date

from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounting.models import ComponentUsage
from common.api.fields import detail_url, parse_uuid
from common.api.serializers import ReadListSerializer
from common.api.viewsets import BaseViewSet
from common.exceptions import NotFound, ValidationFailed
from waldur_provider import selectors, services

from .fields import sparse


class UsageItemSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=60)
    amount = serializers.CharField(max_length=40)
    recurring = serializers.BooleanField(required=False, default=False)


class SetUsageSerializer(serializers.Serializer):
    usages = UsageItemSerializer(many=True, allow_empty=False)
    resource = serializers.CharField(help_text="The resource's uuid (or URL).")
    date = serializers.DateTimeField(help_text="Any moment of the billing month the amounts are for.")
    plan_period = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class UserUsageItemSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=100)
    usage = serializers.CharField(max_length=40)
    user = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    date = serializers.DateTimeField(required=False)


class SetUserUsagesSerializer(serializers.Serializer):
    usages = UserUsageItemSerializer(many=True, allow_empty=False)


class ReportedSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="How many stored amounts the report changed.")


def _payload(serializer_class, request) -> dict:
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


class SetUsageView(APIView):
    """`POST /api/marketplace-component-usages/set_usage/`: a resource's totals for one month."""

    @extend_schema(request=SetUsageSerializer, responses={201: ReportedSerializer})
    def post(self, request):
        data = _payload(SetUsageSerializer, request)
        key = parse_uuid(data["resource"])
        if key is None:
            raise ValidationFailed("resource must be a uuid or a URL ending in one.", field="resource")
        resource = selectors.provider_resource_list(user=request.user).filter(uuid=key).first()
        if resource is None:
            raise NotFound("No such resource among those you provide.")
        changed = services.component_usages_set(
            actor=request.user, resource=resource, usages=data["usages"], date=data["date"]
        )
        return Response({"changed": changed}, status=status.HTTP_201_CREATED)


class SetUserUsagesView(GenericAPIView):
    """`POST /api/marketplace-component-usages/{uuid}/set_user_usages/`: per-user amounts of one total."""

    lookup_field = "uuid"
    serializer_class = SetUserUsagesSerializer

    def get_queryset(self):
        """The totals (rows without a username) of the resources the caller provides."""
        resources = selectors.provider_resource_list(user=self.request.user)
        return ComponentUsage.objects.filter(username="", resource__in=resources).select_related(
            "resource__offering__customer"
        )

    @extend_schema(request=SetUserUsagesSerializer, responses={201: ReportedSerializer})
    def post(self, request, uuid):
        data = _payload(SetUserUsagesSerializer, request)
        key = parse_uuid(uuid)
        total = self.get_queryset().filter(uuid=key).first() if key else None
        if total is None:
            raise NotFound("No such component usage among those of the resources you provide.")
        changed = services.component_user_usages_set(actor=request.user, total=total, usages=data["usages"])
        return Response({"changed": changed}, status=status.HTTP_201_CREATED)


class ComponentUserUsageSerializer(serializers.ModelSerializer):
    """A per-user row, as Waldur's component user usage: `component_usage` is the URL of its total."""

    component_usage = serializers.SerializerMethodField()
    resource_uuid = serializers.UUIDField(source="resource.uuid", read_only=True)
    type = serializers.CharField(source="component_type", read_only=True)

    class Meta:
        list_serializer_class = ReadListSerializer
        model = ComponentUsage
        fields = ("uuid", "component_usage", "resource_uuid", "type", "username", "usage", "billing_period", "created")
        read_only_fields = fields

    def get_component_usage(self, row) -> str | None:
        if row.total_uuid is None:
            return None
        return detail_url(self.context["request"], "marketplace-component-usage-detail", row.total_uuid)


class ComponentUserUsageViewSet(BaseViewSet):
    """Per-user usage of the resources you provide; filters `resource_uuid`, `component_usage__billing_period`."""

    serializer_class = ComponentUserUsageSerializer
    filter_backends = []

    def get_queryset(self):
        totals = ComponentUsage.objects.filter(
            resource_id=OuterRef("resource_id"),
            component_type=OuterRef("component_type"),
            billing_period=OuterRef("billing_period"),
            username="",
        )
        rows = (
            ComponentUsage.objects.filter(resource__in=selectors.provider_resource_list(user=self.request.user))
            .exclude(username="")
            .select_related("resource")
            .annotate(total_uuid=Subquery(totals.values("uuid")[:1]))
            .order_by("id")
        )
        params = self.request.query_params
        if "resource_uuid" in params:
            rows = rows.filter(resource__uuid=self._uuid(params["resource_uuid"], "resource_uuid"))
        period = params.get("component_usage__billing_period") or params.get("billing_period")
        if period:
            rows = rows.filter(billing_period=self._date(period))
        return rows

    def get_paginated_response(self, data):
        return super().get_paginated_response(sparse(data, self.request))

    @staticmethod
    def _uuid(value, field):
        key = parse_uuid(value)
        if key is None:
            raise ValidationFailed(f"{field} must be a uuid.", field=field)
        return key

    @staticmethod
    def _date(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationFailed("Give the billing period as YYYY-MM-DD.", field="billing_period") from None
