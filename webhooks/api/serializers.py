from rest_framework import serializers

from common.api.fields import UrlField
from common.api.serializers import ReadListSerializer
from events.services import CONCERNS
from webhooks.models import Webhook, WebhookDelivery

HOOK_FIELDS = (
    "url",
    "uuid",
    "destination_url",
    "event_types",
    "scope_type",
    "scope_uuid",
    "is_active",
    "disabled_reason",
    "consecutive_failures",
    "created_by_uuid",
    "created_by_username",
    "created",
    "modified",
)


class WebhookSerializer(serializers.ModelSerializer):
    url = UrlField("webhook-detail")
    event_types = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_by_uuid = serializers.UUIDField(source="created_by.uuid", read_only=True)
    created_by_username = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Webhook
        fields = HOOK_FIELDS
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    """The answer to the request that made the hook: the only one that shows its secret."""

    secret = serializers.CharField(
        read_only=True, help_text="Signs every delivery (Standard Webhooks). Shown this once: keep it."
    )

    class Meta(WebhookSerializer.Meta):
        fields = (*HOOK_FIELDS, "secret")
        read_only_fields = fields


class WebhookWriteSerializer(serializers.Serializer):
    destination_url = serializers.URLField(max_length=1000)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=200,
        help_text="Event types to receive (GET /api/events/ shows them); empty or left out: every type.",
    )
    scope_type = serializers.ChoiceField(
        choices=CONCERNS,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="The kind of object whose events the hook receives; only staff may leave it out (every event).",
    )
    scope_uuid = serializers.UUIDField(required=False, allow_null=True)


class WebhookUpdateSerializer(serializers.Serializer):
    destination_url = serializers.URLField(max_length=1000, required=False)
    event_types = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=200)
    is_active = serializers.BooleanField(required=False, help_text="false turns the hook off; true as enable/.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        list_serializer_class = ReadListSerializer
        model = WebhookDelivery
        fields = (
            "event_uuid",
            "event_type",
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "last_status_code",
            "created",
            "delivered_at",
            "payload",
        )
        read_only_fields = fields
