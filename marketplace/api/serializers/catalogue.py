from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.fields import JSONValueField, RelatedUrlField, UrlField
from common.api.serializers import ReadListSerializer, optional_text
from common.validation import MAX_BIGINT
from federation.models import Customer
from marketplace.models import BillingType, LimitPeriod, Offering, OfferingComponent, Plan, PlanUnit
from marketplace.processors import capabilities
from marketplace.services.validation import visible_options


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "format": "decimal"}})
class PlanPricesField(serializers.Field):
    """{component_type: price} from the plan's prefetched `prices_list` (no query per row)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, plan):
        return {price.component.type: str(price.price) for price in plan.prices_list}


@extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
class PlanQuotasField(PlanPricesField):
    """{component_type: amount included in the plan}."""

    def to_representation(self, plan):
        return {price.component.type: price.amount for price in plan.prices_list}


class OfferingComponentSerializer(serializers.ModelSerializer):
    class Meta:
        list_serializer_class = ReadListSerializer
        model = OfferingComponent
        fields = (
            "type",
            "name",
            "description",
            "measured_unit",
            "billing_type",
            "limit_period",
            "min_value",
            "max_value",
            "default_limit",
        )
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    url = UrlField("marketplace-plan-detail")
    offering = UrlField("marketplace-offering-detail", source="offering.uuid")
    offering_uuid = serializers.UUIDField(source="offering.uuid", read_only=True)
    offering_name = serializers.CharField(source="offering.name", read_only=True)
    prices = PlanPricesField()
    quotas = PlanQuotasField()

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Plan
        fields = (
            "url",
            "uuid",
            "name",
            "description",
            "unit",
            "archived",
            "offering",
            "offering_uuid",
            "offering_name",
            "prices",
            "quotas",
            "created",
        )
        read_only_fields = fields


class OfferingSerializer(serializers.ModelSerializer):
    url = UrlField("marketplace-offering-detail")
    customer = UrlField("customer-detail", source="customer.uuid")
    customer_uuid = serializers.UUIDField(source="customer.uuid", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    components = OfferingComponentSerializer(source="components_list", many=True, read_only=True)
    plans = PlanSerializer(source="plans_list", many=True, read_only=True)
    options = serializers.SerializerMethodField()

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Offering
        fields = (
            "url",
            "uuid",
            "name",
            "description",
            "customer",
            "customer_uuid",
            "customer_name",
            "type",
            "state",
            "terms_of_service",
            "terms_of_service_link",
            "options",
            "auto_approve",
            "components",
            "plans",
            "created",
            "modified",
        )
        read_only_fields = fields

    def get_options(self, offering) -> dict:
        """Options the provider cannot honour are not shown (the relation is joined by the selector)."""
        return visible_options(offering.options, capabilities(offering))


class OfferingComponentWriteSerializer(serializers.Serializer):
    type = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=150, required=False)
    description = optional_text(max_length=500)
    measured_unit = optional_text(max_length=30)
    billing_type = serializers.ChoiceField(choices=BillingType.choices, default=BillingType.LIMIT)
    limit_period = serializers.ChoiceField(choices=LimitPeriod.choices, required=False, allow_blank=True)
    min_value = serializers.IntegerField(min_value=0, max_value=MAX_BIGINT, required=False, allow_null=True)
    max_value = serializers.IntegerField(min_value=0, max_value=MAX_BIGINT, required=False, allow_null=True)
    default_limit = serializers.IntegerField(min_value=0, max_value=MAX_BIGINT, required=False, allow_null=True)


class PlanWriteFields(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    description = optional_text(max_length=2000)
    unit = serializers.ChoiceField(choices=PlanUnit.choices, default=PlanUnit.MONTH)
    prices = serializers.DictField(
        child=serializers.DecimalField(max_digits=16, decimal_places=6, min_value=0), required=False
    )
    quotas = serializers.DictField(child=serializers.IntegerField(min_value=0, max_value=MAX_BIGINT), required=False)


class PlanCreateSerializer(PlanWriteFields):
    offering = RelatedUrlField(
        "marketplace-offering-detail", queryset=lambda request: Offering.objects.visible_to(request.user)
    )


class PlanUpdateSerializer(PlanWriteFields):
    name = serializers.CharField(max_length=150, required=False)
    unit = serializers.ChoiceField(choices=PlanUnit.choices, required=False)


class OfferingUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    description = optional_text(max_length=5000)
    type = serializers.CharField(max_length=100, required=False)
    terms_of_service = optional_text(max_length=20000)
    terms_of_service_link = serializers.URLField(max_length=200, required=False, allow_blank=True)
    options = JSONValueField(required=False)
    auto_approve = serializers.BooleanField(required=False)


class OfferingCreateSerializer(OfferingUpdateSerializer):
    customer = RelatedUrlField("customer-detail", queryset=lambda request: Customer.objects.visible_to(request.user))
    name = serializers.CharField(max_length=150)
    components = OfferingComponentWriteSerializer(many=True, required=False)
    plans = PlanWriteFields(many=True, required=False)


class OfferingUpdateComponentsSerializer(serializers.Serializer):
    components = OfferingComponentWriteSerializer(many=True)
