from rest_framework import serializers

from common.api.serializers import ReadListSerializer

from ..models import UnmatchedApelRecord


class UnmatchedApelRecordSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="provider.slug", allow_null=True, read_only=True)

    class Meta:
        list_serializer_class = ReadListSerializer
        model = UnmatchedApelRecord
        fields = (
            "uuid",
            "provider",
            "format",
            "site_name",
            "service",
            "vo",
            "reason",
            "record",
            "times_received",
            "first_received_at",
            "last_received_at",
        )
        read_only_fields = fields


class ImportResultSerializer(serializers.Serializer):
    format = serializers.CharField()
    records = serializers.IntegerField()
    matched = serializers.IntegerField()
    unmatched = serializers.IntegerField()
    usage_rows_changed = serializers.IntegerField()
