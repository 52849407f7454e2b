"""The provider side of Waldur's API, in the shapes waldur-site-agent parses.

The agent's generated client parses every field it receives strictly (enums, uuids, datetimes), so
fields we have no value for are sent as Waldur sends an empty one (null, "", {}, []) and never as a
value outside Waldur's enums. Sparse fieldsets (`?field=a&field=b`) are applied by the views.
"""

import uuid as uuid_lib

from rest_framework import serializers

from common.api.fields import UrlField
from common.api.serializers import ReadListSerializer
from marketplace.api.serializers.orders import OfferingPlanProjectFields
from marketplace.models import Offering, OfferingComponent, Resource
from waldur_provider.models import OBJECT_TYPES

# The agent reads these offering options: a person's username at the site is their username here
# (Waldur's `waldur_username` policy: the site generates none), and no QoS is enforced.
PLUGIN_OPTIONS: dict = {"username_generation_policy": "waldur_username"}

# Deterministic identifiers of the agent's identity, services and processors (nothing is stored).
AGENT_NAMESPACE = uuid_lib.UUID("7b0f3c1e-52a4-4d8e-9f3a-6a1c2b9d0e11")


class ProviderOfferingComponentSerializer(serializers.ModelSerializer):
    uuid = serializers.SerializerMethodField()
    limit_period = serializers.SerializerMethodField()
    limit_amount = serializers.SerializerMethodField()
    unit_factor = serializers.SerializerMethodField()

    class Meta:
        list_serializer_class = ReadListSerializer
        model = OfferingComponent
        fields = (
            "uuid",
            "type",
            "name",
            "description",
            "measured_unit",
            "billing_type",
            "limit_period",
            "limit_amount",
            "unit_factor",
            "min_value",
            "max_value",
            "default_limit",
        )
        read_only_fields = fields

    def get_uuid(self, component) -> str:
        return str(uuid_lib.uuid5(AGENT_NAMESPACE, f"component:{component.offering_id}:{component.type}"))

    def get_limit_period(self, component) -> str | None:
        return component.limit_period or None

    def get_limit_amount(self, component) -> int | None:
        return None

    def get_unit_factor(self, component) -> int:
        return 1


class ProviderOfferingSerializer(serializers.ModelSerializer):
    url = UrlField("marketplace-provider-offering-detail")
    customer = UrlField("customer-detail", source="customer.uuid")
    customer_uuid = serializers.UUIDField(source="customer.uuid", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    slug = serializers.SerializerMethodField()
    components = ProviderOfferingComponentSerializer(source="components_list", many=True, read_only=True)
    plugin_options = serializers.SerializerMethodField()
    partitions = serializers.SerializerMethodField()
    backend_id = serializers.SerializerMethodField()

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Offering
        fields = (
            "url",
            "uuid",
            "name",
            "slug",
            "description",
            "customer",
            "customer_uuid",
            "customer_name",
            "type",
            "state",
            "components",
            "plugin_options",
            "partitions",
            "backend_id",
            "created",
        )
        read_only_fields = fields

    def get_slug(self, offering) -> str:
        return offering.uuid.hex

    def get_plugin_options(self, offering) -> dict:
        return dict(PLUGIN_OPTIONS)

    def get_partitions(self, offering) -> list:
        return []

    def get_backend_id(self, offering) -> str:
        return ""


class ServiceProviderSerializer(serializers.Serializer):
    """A provider organisation as Waldur's service provider; its uuid is the organisation's."""

    url = serializers.SerializerMethodField()
    uuid = serializers.UUIDField(read_only=True)
    customer = UrlField("customer-detail")
    customer_uuid = serializers.UUIDField(source="uuid", read_only=True)
    customer_name = serializers.CharField(source="name", read_only=True)
    customer_slug = serializers.CharField(source="slug", read_only=True)
    created = serializers.DateTimeField(read_only=True)
    description = serializers.SerializerMethodField()

    class Meta:
        list_serializer_class = ReadListSerializer

    def get_url(self, customer) -> str:
        request = self.context["request"]
        return request.build_absolute_uri(f"/api/marketplace-service-providers/{customer.uuid}/")

    def get_description(self, customer) -> str:
        return ""


class ProviderResourceSerializer(OfferingPlanProjectFields, serializers.ModelSerializer):
    """A resource as the agent reads it: the consumer API's related fields, the offering linked in the provider
    API, and what the agent's Slurm plugin names accounts after."""

    url = UrlField("marketplace-provider-resource-detail")
    offering = UrlField("marketplace-provider-offering-detail", source="offering.uuid")
    offering_plugin_options = serializers.SerializerMethodField()
    offering_backend_id = serializers.SerializerMethodField()
    project_slug = serializers.CharField(source="project.slug", read_only=True)
    project_description = serializers.CharField(source="project.description", read_only=True)
    customer_slug = serializers.CharField(source="project.customer.slug", read_only=True)
    resource_uuid = serializers.UUIDField(source="uuid", read_only=True)
    backend_metadata = serializers.SerializerMethodField()
    downscaled = serializers.SerializerMethodField()
    restrict_member_access = serializers.SerializerMethodField()

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Resource
        fields = (
            "url",
            "uuid",
            "resource_uuid",
            "name",
            "slug",
            "description",
            "state",
            "backend_id",
            "limits",
            "attributes",
            "current_usages",
            "end_date",
            "paused",
            "downscaled",
            "restrict_member_access",
            "backend_metadata",
            "offering",
            "offering_uuid",
            "offering_name",
            "offering_type",
            "offering_plugin_options",
            "offering_backend_id",
            "provider_uuid",
            "provider_name",
            "plan",
            "plan_uuid",
            "plan_name",
            "project",
            "project_uuid",
            "project_name",
            "project_slug",
            "project_description",
            "customer_uuid",
            "customer_name",
            "customer_slug",
            "created",
            "modified",
        )
        read_only_fields = fields

    def get_offering_plugin_options(self, resource) -> dict:
        return dict(PLUGIN_OPTIONS)

    def get_offering_backend_id(self, resource) -> str:
        return ""

    def get_backend_metadata(self, resource) -> dict:
        return {}

    def get_downscaled(self, resource) -> bool:
        return False

    def get_restrict_member_access(self, resource) -> bool:
        return False


class ProjectUserSerializer(serializers.Serializer):
    """One member of a resource's project team, as Waldur's ProjectUser."""

    url = UrlField("user-detail", source="user.uuid")
    uuid = serializers.UUIDField(source="user.uuid", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    role = serializers.CharField(source="role.name", read_only=True)
    expiration_time = serializers.DateTimeField(read_only=True, allow_null=True)
    offering_user_username = serializers.SerializerMethodField()
    offering_user_state = serializers.SerializerMethodField()

    def get_offering_user_username(self, grant) -> str | None:
        return grant.user.username

    def get_offering_user_state(self, grant) -> str | None:
        return "OK"


class BackendIdSerializer(serializers.Serializer):
    backend_id = serializers.CharField(max_length=255, allow_blank=True)


class BackendMetadataSerializer(serializers.Serializer):
    backend_metadata = serializers.DictField()


class LimitsSerializer(serializers.Serializer):
    limits = serializers.DictField(child=serializers.JSONField())


class StatusSerializer(serializers.Serializer):
    status = serializers.CharField()


class AgentIdentityRequestSerializer(serializers.Serializer):
    offering = serializers.UUIDField()
    name = serializers.CharField(max_length=255)
    version = serializers.CharField(required=False, allow_blank=True)
    last_restarted = serializers.DateTimeField(required=False)
    dependencies = serializers.ListField(child=serializers.DictField(), required=False)
    config_file_path = serializers.CharField(required=False, allow_blank=True)
    config_file_content = serializers.CharField(required=False, allow_blank=True)


class AgentServiceRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    mode = serializers.CharField(max_length=255, required=False, allow_blank=True)


class AgentProcessorRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    backend_type = serializers.CharField(max_length=255, required=False, allow_blank=True)
    backend_version = serializers.CharField(max_length=255, required=False, allow_blank=True)


class OfferingUserSerializer(serializers.Serializer):
    """Waldur's offering user, as `marketplace-offering-users` lists it (rows are built by the view)."""

    url = serializers.URLField()
    uuid = serializers.UUIDField()
    user = serializers.URLField()
    user_uuid = serializers.UUIDField()
    user_username = serializers.CharField()
    user_full_name = serializers.CharField()
    user_first_name = serializers.CharField()
    user_last_name = serializers.CharField()
    user_email = serializers.CharField()
    offering = serializers.URLField()
    offering_uuid = serializers.UUIDField()
    offering_name = serializers.CharField()
    customer_uuid = serializers.UUIDField()
    customer_name = serializers.CharField()
    username = serializers.CharField()
    state = serializers.CharField(help_text="Always OK: the site username is the username here.")
    is_restricted = serializers.BooleanField()
    created = serializers.DateTimeField()
    modified = serializers.DateTimeField()


class AgentQueueRegistrationSerializer(serializers.Serializer):
    object_types = serializers.ListField(
        child=serializers.ChoiceField(choices=OBJECT_TYPES), required=False, default=list, max_length=len(OBJECT_TYPES)
    )


class AgentQueueSerializer(serializers.Serializer):
    """What an agent reads from `register_queue`: where its STOMP connection logs in and subscribes."""

    rmq_username = serializers.CharField()
    queue_name = serializers.CharField()
    vhost = serializers.CharField()
    observable_object_types = serializers.ListField(child=serializers.CharField(), source="object_types")
