"""Thin views: parse, call a service or a selector, serialize."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.viewsets import BaseViewSet
from common.exceptions import NotFound
from marketplace import selectors, services
from marketplace.filters import OfferingFilter, OrderFilter, PlanFilter, ResourceFilter, StateChangeFilter

from . import serializers as s


def _payload(serializer_class, request, **kwargs):
    payload = serializer_class(data=request.data, context={"request": request}, **kwargs)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


class OfferingViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """What providers offer. Everyone signed in reads active ones; the provider's owners manage theirs."""

    serializer_class = s.OfferingSerializer
    filterset_class = OfferingFilter

    def get_queryset(self):
        return selectors.offering_list(user=self.request.user)

    def _respond(self, offering, code=status.HTTP_200_OK):
        offering = self.get_queryset().get(pk=offering.pk)
        return Response(self.get_serializer(offering).data, status=code)

    @extend_schema(request=s.OfferingCreateSerializer, responses={201: s.OfferingSerializer})
    def create(self, request):
        data = _payload(s.OfferingCreateSerializer, request)
        return self._respond(services.offering_create(actor=request.user, **data), status.HTTP_201_CREATED)

    @extend_schema(request=s.OfferingUpdateSerializer, responses={200: s.OfferingSerializer})
    def partial_update(self, request, uuid=None):
        data = _payload(s.OfferingUpdateSerializer, request, partial=True)
        return self._respond(services.offering_update(actor=request.user, offering=self.get_object(), **data))

    @extend_schema(request=s.OfferingUpdateComponentsSerializer, responses={200: s.OfferingSerializer})
    @action(detail=True, methods=["post"])
    def update_components(self, request, uuid=None):
        data = _payload(s.OfferingUpdateComponentsSerializer, request)
        offering = self.get_object()
        services.offering_components_upsert(actor=request.user, offering=offering, components=data["components"])
        return self._respond(offering)

    def _change_state(self, request, action_name):
        offering = services.offering_change_state(actor=request.user, offering=self.get_object(), action=action_name)
        return self._respond(offering)

    @extend_schema(request=None, responses={200: s.OfferingSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, uuid=None):
        return self._change_state(request, "activate")

    @extend_schema(request=None, responses={200: s.OfferingSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, uuid=None):
        return self._change_state(request, "pause")

    @extend_schema(request=None, responses={200: s.OfferingSerializer})
    @action(detail=True, methods=["post"])
    def unpause(self, request, uuid=None):
        return self._change_state(request, "unpause")

    @extend_schema(request=None, responses={200: s.OfferingSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request, uuid=None):
        return self._change_state(request, "archive")


class PublicOfferingViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """The catalogue at the URLs current Waldur clients build: offerings and their plans, read-only."""

    serializer_class = s.OfferingSerializer
    filterset_class = OfferingFilter

    def get_queryset(self):
        return selectors.offering_list(user=self.request.user)

    @extend_schema(responses=s.PlanSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def plans(self, request, uuid=None):
        offering = self.get_object()
        return Response(s.PlanSerializer(offering.plans_list, many=True, context={"request": request}).data)

    @extend_schema(
        responses=s.PlanSerializer,
        parameters=[OpenApiParameter("plan_uuid", OpenApiTypes.UUID, OpenApiParameter.PATH)],
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"plans/(?P<plan_uuid>[0-9a-fA-F-]{32,36})",
        url_name="plan-detail",
        filter_backends=[],
        pagination_class=None,
    )
    def plan_detail(self, request, uuid=None, plan_uuid=None):
        offering = self.get_object()
        plan = next(
            (p for p in offering.plans_list if str(p.uuid).replace("-", "") == plan_uuid.replace("-", "").lower()), None
        )
        if plan is None:
            raise NotFound("No such plan in this offering.")
        return Response(s.PlanSerializer(plan, context={"request": request}).data)


class PlanViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = s.PlanSerializer
    filterset_class = PlanFilter

    def get_queryset(self):
        return selectors.plan_list(user=self.request.user)

    def _respond(self, plan, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=plan.pk)).data, status=code)

    @extend_schema(request=s.PlanCreateSerializer, responses={201: s.PlanSerializer})
    def create(self, request):
        data = _payload(s.PlanCreateSerializer, request)
        return self._respond(services.plan_create(actor=request.user, **data), status.HTTP_201_CREATED)

    @extend_schema(request=s.PlanUpdateSerializer, responses={200: s.PlanSerializer})
    def partial_update(self, request, uuid=None):
        data = _payload(s.PlanUpdateSerializer, request, partial=True)
        return self._respond(services.plan_update(actor=request.user, plan=self.get_object(), **data))

    @extend_schema(request=None, responses={200: s.PlanSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request, uuid=None):
        return self._respond(services.plan_archive(actor=request.user, plan=self.get_object()))


class OrderViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """Orders and their state machine; every action is one service call under a row lock."""

    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter

    def get_queryset(self):
        return selectors.order_list(user=self.request.user)

    def _respond(self, order, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data, status=code)

    @extend_schema(request=s.OrderCreateSerializer, responses={201: s.OrderSerializer})
    def create(self, request):
        data = _payload(s.OrderCreateSerializer, request)
        order = services.order_place(actor=request.user, plan=data.pop("plan", None), **data)
        return self._respond(order, status.HTTP_201_CREATED)

    def _transition(self, service, **kwargs):
        return self._respond(service(order=self.get_object(), actor=self.request.user, **kwargs))

    @extend_schema(request=None, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def approve_by_consumer(self, request, uuid=None):
        return self._transition(services.order_approve_by_consumer)

    @extend_schema(request=s.OrderRejectSerializer, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def reject_by_consumer(self, request, uuid=None):
        return self._transition(services.order_reject_by_consumer, **_payload(s.OrderRejectSerializer, request))

    @extend_schema(request=None, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def approve_by_provider(self, request, uuid=None):
        """The order as approved, plus Waldur's `detail` line, which waldur-site-agent requires."""
        answer = self._transition(services.order_approve_by_provider)
        answer.data = {"detail": "Order has been approved.", **answer.data}
        return answer

    @extend_schema(request=s.OrderRejectSerializer, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def reject_by_provider(self, request, uuid=None):
        return self._transition(services.order_reject_by_provider, **_payload(s.OrderRejectSerializer, request))

    @extend_schema(request=None, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, uuid=None):
        return self._transition(services.order_cancel)

    @extend_schema(request=None, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def set_state_executing(self, request, uuid=None):
        return self._transition(services.order_set_state_executing)

    @extend_schema(request=s.OrderDoneSerializer, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def set_state_done(self, request, uuid=None):
        data = _payload(s.OrderDoneSerializer, request)
        return self._transition(services.order_set_state_done, **data)

    @extend_schema(request=s.OrderErredSerializer, responses={200: s.OrderSerializer})
    @action(detail=True, methods=["post"])
    def set_state_erred(self, request, uuid=None):
        data = _payload(s.OrderErredSerializer, request)
        return self._transition(services.order_set_state_erred, **data)


class ResourceViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = s.ResourceSerializer
    filterset_class = ResourceFilter

    def get_queryset(self):
        return selectors.resource_list(user=self.request.user)

    @extend_schema(request=s.ResourceUpdateLimitsSerializer, responses={200: s.OrderUuidSerializer})
    @action(detail=True, methods=["post"])
    def update_limits(self, request, uuid=None):
        data = _payload(s.ResourceUpdateLimitsSerializer, request)
        order = services.resource_update_limits(resource=self.get_object(), actor=request.user, limits=data["limits"])
        return Response({"order_uuid": str(order.uuid)}, status=status.HTTP_200_OK)

    @extend_schema(request=s.ResourceTerminateSerializer, responses={200: s.OrderUuidSerializer})
    @action(detail=True, methods=["post"])
    def terminate(self, request, uuid=None):
        data = _payload(s.ResourceTerminateSerializer, request)
        order = services.resource_terminate(
            resource=self.get_object(), actor=request.user, attributes=data["attributes"]
        )
        return Response({"order_uuid": str(order.uuid)}, status=status.HTTP_200_OK)

    @extend_schema(request=s.ResourcePauseSerializer, responses={200: s.ResourceSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, uuid=None):
        """Stop new work at the provider (staff and the provider's owners); 409 if already paused."""
        data = _payload(s.ResourcePauseSerializer, request)
        services.resource_pause(resource=self.get_object(), actor=request.user, reason=data["reason"])
        return Response(self._fresh(), status=status.HTTP_200_OK)

    @extend_schema(request=s.ResourcePauseSerializer, responses={200: s.ResourceSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, uuid=None):
        """Let a paused resource run again (staff and the provider's owners); 409 if it is not paused."""
        data = _payload(s.ResourcePauseSerializer, request)
        services.resource_resume(resource=self.get_object(), actor=request.user, reason=data["reason"])
        return Response(self._fresh(), status=status.HTTP_200_OK)

    def _fresh(self) -> dict:
        """The resource as the list shows it, read again after the change."""
        return self.get_serializer(self.get_object()).data


class StateChangeViewSet(BaseViewSet):
    """Every state change of the orders and resources you can see; filter by `order_uuid` or `resource_uuid`."""

    serializer_class = s.StateChangeSerializer
    filterset_class = StateChangeFilter

    def get_queryset(self):
        return selectors.state_change_list(user=self.request.user)
