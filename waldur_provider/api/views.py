"""The provider side of Waldur's API for waldur-site-agent: thin views over selectors and services.

Orders are not here: the agent lists and completes them through `marketplace-orders`, the one order
API, whose visibility already lets a provider organisation's owners see and act on its orders.
"""

from importlib import metadata

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.viewsets import BaseViewSet
from marketplace import services as marketplace
from marketplace.filters import OfferingFilter, ResourceFilter
from waldur_provider import selectors
from waldur_provider.filters import ServiceProviderFilter

from . import serializers as s
from .fields import SparseFieldsMixin

OK = {"status": "OK"}


def _payload(serializer_class, request) -> dict:
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


class VersionView(APIView):
    """The orchestrator's version, where Waldur serves its own (`GET /api/version/`)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=inline_serializer("Version", fields={"version": serializers.CharField()}))
    def get(self, request):
        try:
            version = metadata.version("federation-orchestrator")
        except metadata.PackageNotFoundError:
            version = "0"
        return Response({"version": version})


class ProviderOfferingViewSet(SparseFieldsMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The offerings of the organisations you provide for that a Waldur site agent serves."""

    serializer_class = s.ProviderOfferingSerializer
    filterset_class = OfferingFilter

    def get_queryset(self):
        return selectors.provider_offering_list(user=self.request.user)

    @extend_schema(responses=inline_serializer("UserAttributeConfig", fields={"uuid": serializers.UUIDField()}))
    @action(detail=True, methods=["get"], url_path="user-attribute-config", filter_backends=[], pagination_class=None)
    def user_attribute_config(self, request, uuid=None):
        """The user attributes the site sees: Waldur's defaults (username, full name, email)."""
        offering = self.get_object()
        return Response(
            {
                "uuid": str(offering.uuid),
                "offering_uuid": str(offering.uuid),
                "offering_name": offering.name,
                "exposed_fields": ["username", "full_name", "email"],
                "is_default": True,
                "created": offering.created.isoformat(),
                "modified": offering.modified.isoformat(),
            }
        )

    @extend_schema(
        responses=inline_serializer("ProjectServiceAccount", fields={"uuid": serializers.UUIDField()}, many=True)
    )
    @action(detail=True, methods=["get"])
    def list_project_service_accounts(self, request, uuid=None):
        """Project service accounts: none exist here."""
        self.get_object()
        return self.get_paginated_response(self.paginate_queryset([]))

    @extend_schema(responses=inline_serializer("CourseAccount", fields={"uuid": serializers.UUIDField()}, many=True))
    @action(detail=True, methods=["get"])
    def list_course_accounts(self, request, uuid=None):
        """Course accounts: none exist here."""
        self.get_object()
        return self.get_paginated_response(self.paginate_queryset([]))


class ComponentUserUsageLimitViewSet(BaseViewSet):
    """Per-user limits of a resource's components: none are set here, so the list is always empty."""

    serializer_class = s.StatusSerializer
    filter_backends = []

    @extend_schema(responses=inline_serializer("ComponentUserUsageLimit", fields={"uuid": serializers.UUIDField()}))
    def list(self, request):
        return self.get_paginated_response(self.paginate_queryset([]))


class ServiceProviderViewSet(SparseFieldsMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Provider organisations as Waldur's service providers (uuid = the organisation's)."""

    serializer_class = s.ServiceProviderSerializer
    filterset_class = ServiceProviderFilter

    def get_queryset(self):
        return selectors.service_provider_list(user=self.request.user)

    @extend_schema(
        responses=inline_serializer("ServiceProviderKey", fields={"uuid": serializers.UUIDField()}, many=True)
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def keys(self, request, uuid=None):
        """Public SSH keys of the provider's staff: none are kept here."""
        self.get_object()
        return Response([])


class ProviderResourceViewSet(SparseFieldsMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Resources of the offerings a Waldur site agent serves, and what the agent reports about them."""

    serializer_class = s.ProviderResourceSerializer
    filterset_class = ResourceFilter

    def get_queryset(self):
        return selectors.provider_resource_list(user=self.request.user)

    @extend_schema(request=s.BackendIdSerializer, responses=s.StatusSerializer)
    @action(detail=True, methods=["post"])
    def set_backend_id(self, request, uuid=None):
        data = _payload(s.BackendIdSerializer, request)
        marketplace.resource_set_backend_id(resource=self.get_object(), actor=request.user, **data)
        return Response(OK)

    @extend_schema(request=s.LimitsSerializer, responses=s.StatusSerializer)
    @action(detail=True, methods=["post"])
    def set_limits(self, request, uuid=None):
        data = _payload(s.LimitsSerializer, request)
        marketplace.resource_set_limits(resource=self.get_object(), actor=request.user, **data)
        return Response(OK)

    @extend_schema(request=s.BackendMetadataSerializer, responses=s.StatusSerializer)
    @action(detail=True, methods=["post"])
    def set_backend_metadata(self, request, uuid=None):
        """Accepted and not kept: nothing here reads a site's metadata (its QoS, say)."""
        _payload(s.BackendMetadataSerializer, request)
        marketplace.resource_check_provider(resource=self.get_object(), actor=request.user)
        return Response(OK)

    @extend_schema(request=None, responses=s.StatusSerializer)
    @action(detail=True, methods=["post"])
    def refresh_last_sync(self, request, uuid=None):
        """Accepted and not kept: the time of a site's last membership sync is not recorded."""
        marketplace.resource_check_provider(resource=self.get_object(), actor=request.user)
        return Response(OK)

    @extend_schema(responses=s.ProjectUserSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def team(self, request, uuid=None):
        """The project's members with an active role: who the site gives access to the resource."""
        grants = selectors.resource_team(resource=self.get_object())
        return Response(s.ProjectUserSerializer(grants, many=True, context={"request": request}).data)
