from rest_framework import serializers

from common.api.serializers import ReadListSerializer
from events.models import Event


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        list_serializer_class = ReadListSerializer
        model = Event
        fields = (
            "uuid",
            "created",
            "event_type",
            "message",
            "actor_uuid",
            "actor_username",
            "scope_type",
            "scope_uuid",
            "customer_uuid",
            "project_uuid",
            "resource_uuid",
            "order_uuid",
            "offering_uuid",
            "provider_uuid",
            "context",
        )
        read_only_fields = fields
