from rest_framework import serializers

from accounting.models import ComponentUsage
from common.api.fields import UrlField
from common.api.serializers import ReadListSerializer


class ComponentUsageSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="component_type")
    name = serializers.CharField(source="component_name", default="", allow_null=True)
    measured_unit = serializers.CharField(source="component_unit", default="", allow_null=True)
    date = serializers.DateTimeField(source="reported_at")
    resource = UrlField("marketplace-resource-detail", source="resource.uuid")
    resource_uuid = serializers.UUIDField(source="resource.uuid")
    resource_name = serializers.CharField(source="resource.name")
    offering_uuid = serializers.UUIDField(source="resource.offering.uuid")
    offering_name = serializers.CharField(source="resource.offering.name")
    project_uuid = serializers.UUIDField(source="resource.project.uuid")
    project_name = serializers.CharField(source="resource.project.name")
    customer_uuid = serializers.UUIDField(source="resource.project.customer.uuid")
    customer_name = serializers.CharField(source="resource.project.customer.name")

    class Meta:
        list_serializer_class = ReadListSerializer
        model = ComponentUsage
        fields = (
            "uuid",
            "created",
            "modified",
            "date",
            "description",
            "type",
            "name",
            "measured_unit",
            "usage",
            "username",
            "billing_period",
            "decreased",
            "previous_usage",
            "resource",
            "resource_uuid",
            "resource_name",
            "offering_uuid",
            "offering_name",
            "project_uuid",
            "project_name",
            "customer_uuid",
            "customer_name",
        )
        read_only_fields = fields
