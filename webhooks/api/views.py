from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.viewsets import BaseViewSet
from webhooks import selectors, services
from webhooks.filters import WebhookDeliveryFilter, WebhookFilter
from webhooks.models import WebhookDelivery

from .serializers import (
    WebhookCreatedSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
    WebhookWriteSerializer,
)


class WebhookViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """Signed deliveries of events to a URL (docs/webhooks.md): a customer's owners, a project's managers
    and staff subscribe to the events of an object they can see. A hook is seen by its creator, staff
    and support; its secret only once, in the answer to the POST that made it."""

    serializer_class = WebhookSerializer
    filterset_class = WebhookFilter

    def get_queryset(self):
        return selectors.webhook_list(user=self.request.user)

    @extend_schema(request=WebhookWriteSerializer, responses={201: WebhookCreatedSerializer})
    def create(self, request):
        payload = WebhookWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        hook = services.webhook_create(actor=request.user, **payload.validated_data)
        return Response(
            WebhookCreatedSerializer(hook, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=WebhookUpdateSerializer, responses={200: WebhookSerializer})
    def partial_update(self, request, uuid=None):
        hook = self.get_object()
        payload = WebhookUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        hook = services.webhook_update(actor=request.user, hook=hook, **payload.validated_data)
        return Response(self.get_serializer(hook).data)

    def destroy(self, request, uuid=None):
        services.webhook_delete(actor=request.user, hook=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: WebhookSerializer})
    @action(detail=True, methods=["post"])
    def enable(self, request, uuid=None):
        """Turn a disabled hook on again (its failure count starts from zero); 409 when it is active."""
        hook = services.webhook_enable(actor=request.user, hook=self.get_object())
        return Response(self.get_serializer(hook).data)

    @extend_schema(
        responses=WebhookDeliverySerializer(many=True),
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=WebhookDelivery.State.values,
                many=True,
                description="Repeat to match any of several states.",
            ),
            OpenApiParameter("event_type", str),
            OpenApiParameter("event_uuid", OpenApiTypes.UUID, description="The `webhook-id` of the delivery."),
        ],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request, uuid=None):
        """The hook's deliveries, newest first: state, attempts and the last error of each."""
        hook = self.get_object()
        deliveries = WebhookDeliveryFilter(
            request.query_params, queryset=selectors.webhook_deliveries(hook=hook), request=request
        )
        if not deliveries.is_valid():
            return Response(deliveries.errors, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(deliveries.qs)
        data = WebhookDeliverySerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)
