from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from federation.api.viewsets import BaseViewSet
from providers import services
from providers.filters import ProviderFilter
from providers.models import Provider

from .serializers import ConnectionSerializer, ProviderSerializer, ProviderWriteSerializer


class ProviderViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """Registered providers with their manifest and health. Everyone signed in may connect to one."""

    serializer_class = ProviderSerializer
    filterset_class = ProviderFilter
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]+"

    def get_queryset(self):
        if self.action == "connect":
            return Provider.objects.all()
        return Provider.objects.visible_to(self.request.user).select_related("customer")

    @extend_schema(request=ProviderWriteSerializer, responses={201: ProviderSerializer})
    def create(self, request):
        payload = ProviderWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        provider = services.provider_register(actor=request.user, **payload.validated_data)
        return Response(self.get_serializer(provider).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ConnectionSerializer})
    @action(detail=True, methods=["post"])
    def connect(self, request, slug=None):
        """Start connecting your account to this provider; follow `redirect_url` to log in there."""
        connection = services.connection_request(user=request.user, provider=self.get_object())
        return Response(ConnectionSerializer(connection).data)
