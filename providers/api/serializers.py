from rest_framework import serializers

from common.api.fields import JSONObjectField, RelatedUrlField, UrlField
from common.api.serializers import ReadListSerializer
from federation.models import Customer
from providers.models import Provider, ProviderEndpoint, UserConnection


class ProviderEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        list_serializer_class = ReadListSerializer
        model = ProviderEndpoint
        fields = ("service_type", "url", "monitored")
        read_only_fields = fields


class ProviderSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    endpoints = ProviderEndpointSerializer(many=True, read_only=True)
    customer = UrlField("customer-detail", source="customer.uuid")
    customer_uuid = serializers.UUIDField(source="customer.uuid", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    base_url = serializers.CharField(read_only=True)

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Provider
        fields = (
            "url",
            "uuid",
            "slug",
            "name",
            "domain",
            "https",
            "env",
            "base_url",
            "customer",
            "customer_uuid",
            "customer_name",
            "status",
            "jwks",
            "manifest",
            "manifest_fetched_at",
            "available",
            "consecutive_failures",
            "last_error",
            "last_manifest_pull_at",
            "last_usage_pull_at",
            "last_delivery_at",
            "last_failure_at",
            "last_verify",
            "endpoints",
            "created",
        )
        read_only_fields = fields

    def get_url(self, provider) -> str:
        request = self.context.get("request")
        path = f"/api/providers/{provider.slug}/"
        return request.build_absolute_uri(path) if request else path


class ProviderWriteSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=50)
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, allow_null=True)
    domain = serializers.CharField(max_length=255)
    https = serializers.BooleanField(default=True)
    env = serializers.ChoiceField(choices=Provider.Env.choices, default=Provider.Env.PRODUCTION)
    customer = RelatedUrlField("customer-detail", queryset=lambda request: Customer.objects.visible_to(request.user))
    jwks = JSONObjectField()


class ConnectionSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="provider.slug")

    class Meta:
        list_serializer_class = ReadListSerializer
        model = UserConnection
        fields = ("uuid", "provider", "state", "username", "redirect_url", "created", "connected_at")
        read_only_fields = fields
