from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.viewsets import BaseViewSet
from providers import services
from providers.filters import ProviderFilter
from providers.models import Provider
from providers.selectors import providers_connectable_by

from .serializers import ConnectionSerializer, ProviderSerializer, ProviderWriteSerializer


class ProviderViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """Registered providers with their manifest and health; members of a project with a resource there may connect."""

    serializer_class = ProviderSerializer
    filterset_class = ProviderFilter
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]+"

    def get_queryset(self):
        visible = Provider.objects.visible_to(self.request.user)
        if self.action == "connect":
            # Those who may connect see the provider here; those who only see it are refused (403).
            return (visible | providers_connectable_by(self.request.user)).distinct()
        return visible.select_related("customer").prefetch_related("endpoints")

    @extend_schema(request=ProviderWriteSerializer, responses={201: ProviderSerializer})
    def create(self, request):
        payload = ProviderWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        provider = services.provider_register(actor=request.user, **payload.validated_data)
        return Response(self.get_serializer(provider).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: ConnectionSerializer,
            502: OpenApiResponse(
                OpenApiTypes.OBJECT, description="The provider did not answer in time, or is marked unavailable."
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def connect(self, request, slug=None):
        """Start connecting your account to this provider; follow `redirect_url` to log in there.

        For staff and members of a project with a resource at the provider. The provider is asked
        at once, for at most PROVIDER_CONNECT_TIMEOUT seconds: 502 when it does not answer in time.
        """
        connection = services.connection_request(user=request.user, provider=self.get_object())
        return Response(ConnectionSerializer(connection).data)
