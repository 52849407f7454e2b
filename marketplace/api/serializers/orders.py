from rest_framework import serializers

from common.api.fields import JSONObjectField, RelatedUrlField, UrlField
from common.api.serializers import ReadListSerializer
from federation.models import Project
from marketplace.models import Offering, Order, OrderType, Plan, Resource, StateChange


class OfferingPlanProjectFields(serializers.Serializer):
    """The related objects orders and resources both show: offering, provider, plan, project, customer."""

    offering = UrlField("marketplace-offering-detail", source="offering.uuid")
    offering_uuid = serializers.UUIDField(source="offering.uuid", read_only=True)
    offering_name = serializers.CharField(source="offering.name", read_only=True)
    offering_type = serializers.CharField(source="offering.type", read_only=True)
    provider_uuid = serializers.UUIDField(source="offering.customer.uuid", read_only=True)
    provider_name = serializers.CharField(source="offering.customer.name", read_only=True)
    plan = UrlField("marketplace-plan-detail", source="plan.uuid", allow_null=True)
    plan_uuid = serializers.UUIDField(source="plan.uuid", read_only=True, allow_null=True)
    plan_name = serializers.CharField(source="plan.name", read_only=True, allow_null=True)
    project = UrlField("project-detail", source="project.uuid")
    project_uuid = serializers.UUIDField(source="project.uuid", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    customer_uuid = serializers.UUIDField(source="project.customer.uuid", read_only=True)
    customer_name = serializers.CharField(source="project.customer.name", read_only=True)


class OrderSerializer(OfferingPlanProjectFields, serializers.ModelSerializer):
    url = UrlField("marketplace-order-detail")
    plan_unit = serializers.CharField(source="plan.unit", read_only=True, allow_null=True)
    # Waldur site agents remove the project's account at the site by it when the last resource goes.
    project_slug = serializers.CharField(source="project.slug", read_only=True)
    resource = UrlField("marketplace-resource-detail", source="resource.uuid", allow_null=True)
    resource_uuid = serializers.UUIDField(source="resource.uuid", read_only=True, allow_null=True)
    marketplace_resource_uuid = serializers.UUIDField(source="resource.uuid", read_only=True, allow_null=True)
    resource_name = serializers.CharField(source="resource.name", read_only=True, allow_null=True)
    created_by = UrlField("user-detail", source="created_by.uuid", allow_null=True)
    created_by_username = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    created_by_full_name = serializers.CharField(source="created_by.full_name", read_only=True, allow_null=True)
    consumer_reviewed_by = UrlField("user-detail", source="consumer_reviewed_by.uuid", allow_null=True)
    consumer_reviewed_by_username = serializers.CharField(
        source="consumer_reviewed_by.username", read_only=True, allow_null=True
    )
    consumer_reviewed_by_full_name = serializers.CharField(
        source="consumer_reviewed_by.full_name", read_only=True, allow_null=True
    )
    provider_reviewed_by = UrlField("user-detail", source="provider_reviewed_by.uuid", allow_null=True)
    provider_reviewed_by_username = serializers.CharField(
        source="provider_reviewed_by.username", read_only=True, allow_null=True
    )
    provider_reviewed_by_full_name = serializers.CharField(
        source="provider_reviewed_by.full_name", read_only=True, allow_null=True
    )

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Order
        fields = (
            "url",
            "uuid",
            "type",
            "state",
            "offering",
            "offering_uuid",
            "offering_name",
            "offering_type",
            "provider_uuid",
            "provider_name",
            "plan",
            "plan_uuid",
            "plan_name",
            "plan_unit",
            "project",
            "project_uuid",
            "project_name",
            "project_slug",
            "customer_uuid",
            "customer_name",
            "resource",
            "resource_uuid",
            "marketplace_resource_uuid",
            "resource_name",
            "attributes",
            "limits",
            "cost",
            "created_by",
            "created_by_username",
            "created_by_full_name",
            "consumer_reviewed_by",
            "consumer_reviewed_by_username",
            "consumer_reviewed_by_full_name",
            "consumer_reviewed_at",
            "provider_reviewed_by",
            "provider_reviewed_by_username",
            "provider_reviewed_by_full_name",
            "provider_reviewed_at",
            "error_message",
            "error_traceback",
            "reject_reason",
            "created",
            "modified",
            "completed_at",
        )
        read_only_fields = fields


def _limits_field(**kwargs):
    return JSONObjectField(help_text="{component_type: amount}", **kwargs)


class OrderCreateSerializer(serializers.Serializer):
    project = RelatedUrlField("project-detail", queryset=lambda request: Project.objects.visible_to(request.user))
    offering = RelatedUrlField(
        "marketplace-offering-detail",
        queryset=lambda request: Offering.objects.visible_to(request.user).select_related("customer"),
        help_text="URL of the offering (marketplace-offerings or marketplace-public-offerings) or its uuid.",
    )
    plan = RelatedUrlField(
        "marketplace-plan-detail",
        queryset=lambda request: Plan.objects.visible_to(request.user),
        required=False,
        allow_null=True,
        help_text="URL of the plan (marketplace-plans or marketplace-public-offerings/…/plans/…) or its uuid.",
    )
    resource = RelatedUrlField(
        "marketplace-resource-detail",
        queryset=lambda request: Resource.objects.visible_to(request.user),
        required=False,
        allow_null=True,
        help_text="The resource an Update or Terminate order changes.",
    )
    attributes = JSONObjectField(required=False, default=dict)
    limits = _limits_field(required=False, default=dict)
    type = serializers.ChoiceField(choices=OrderType.choices, default=OrderType.CREATE)
    accepting_terms_of_service = serializers.BooleanField(required=False, default=False)


class OrderDoneSerializer(serializers.Serializer):
    backend_id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class OrderErredSerializer(serializers.Serializer):
    error_message = serializers.CharField(max_length=2000)
    error_traceback = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")


class OrderRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="Why; told to the order's creator."
    )


class OrderUuidSerializer(serializers.Serializer):
    order_uuid = serializers.UUIDField()


class ResourceSerializer(OfferingPlanProjectFields, serializers.ModelSerializer):
    url = UrlField("marketplace-resource-detail")

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Resource
        fields = (
            "url",
            "uuid",
            "name",
            "slug",
            "description",
            "state",
            "paused",
            "offering",
            "offering_uuid",
            "offering_name",
            "offering_type",
            "provider_uuid",
            "provider_name",
            "plan",
            "plan_uuid",
            "plan_name",
            "project",
            "project_uuid",
            "project_name",
            "customer_uuid",
            "customer_name",
            "limits",
            "attributes",
            "backend_id",
            "end_date",
            "current_usages",
            "created",
            "modified",
        )
        read_only_fields = fields


class ResourceUpdateLimitsSerializer(serializers.Serializer):
    limits = _limits_field()


class ResourceTerminateSerializer(serializers.Serializer):
    attributes = JSONObjectField(required=False, default=dict)


class ResourcePauseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class StateChangeSerializer(serializers.ModelSerializer):
    order_uuid = serializers.UUIDField(source="order.uuid", read_only=True, allow_null=True)
    resource_uuid = serializers.UUIDField(source="resource.uuid", read_only=True, allow_null=True)
    actor = UrlField("user-detail", source="actor.uuid", allow_null=True)
    actor_username = serializers.CharField(source="actor.username", read_only=True, allow_null=True)
    actor_full_name = serializers.CharField(source="actor.full_name", read_only=True, allow_null=True)

    class Meta:
        list_serializer_class = ReadListSerializer
        model = StateChange
        fields = (
            "order_uuid",
            "resource_uuid",
            "created",
            "from_state",
            "to_state",
            "message",
            "actor",
            "actor_username",
            "actor_full_name",
        )
        read_only_fields = fields
