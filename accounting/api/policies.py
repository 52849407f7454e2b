"""`/api/policies/`: limits on the cost or a component's usage of a project, customer or offering per
period, with the thresholds that act when crossed (docs/policies.md); `firings/` lists what fired."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounting.policies import selectors, services
from accounting.policies.filters import PolicyFilter
from accounting.policies.models import Policy, PolicyFiring, PolicyKind, PolicyPeriod, PolicyScope
from common.api.fields import UrlField
from common.api.serializers import ReadListSerializer
from common.api.viewsets import BaseViewSet
from common.exceptions import NotFound
from common.loading import load_row
from federation.models import Customer, Project
from marketplace.models import Offering

SCOPE_MODELS = {PolicyScope.PROJECT: Project, PolicyScope.CUSTOMER: Customer, PolicyScope.OFFERING: Offering}
POLICY_FIELDS = ("url", "uuid", "scope_type", "scope_uuid", "scope_name", "kind", "period", "limit_cost",
                 "component_type", "limit_usage", "thresholds", "has_fired", "fired_datetime", "created_by_username",
                 "created", "modified")  # fmt: skip


class PolicySerializer(serializers.ModelSerializer):
    url = UrlField("policy-detail")
    scope_uuid = serializers.UUIDField(read_only=True)
    scope_name = serializers.CharField(read_only=True)
    thresholds = serializers.JSONField(read_only=True, help_text='[{"percent": 80, "actions": ["notify"]}, ...]')
    has_fired = serializers.BooleanField(read_only=True, help_text="A threshold fired this period and still acts.")
    fired_datetime = serializers.DateTimeField(read_only=True, allow_null=True, help_text="The latest firing.")
    created_by_username = serializers.CharField(source="created_by.username", default=None, read_only=True)

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Policy
        fields = POLICY_FIELDS
        read_only_fields = fields


class PolicyCreateSerializer(serializers.Serializer):
    scope_type = serializers.ChoiceField(choices=PolicyScope.choices)
    scope_uuid = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=PolicyKind.choices)
    period = serializers.ChoiceField(choices=PolicyPeriod.choices, default=PolicyPeriod.MONTH)
    limit_cost = serializers.DecimalField(max_digits=22, decimal_places=6, required=False, allow_null=True)
    component_type = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    limit_usage = serializers.DecimalField(max_digits=28, decimal_places=10, required=False, allow_null=True)
    thresholds = serializers.JSONField(help_text='[{"percent": 80, "actions": ["notify"]}, ...]')


class PolicyUpdateSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PolicyPeriod.choices, required=False)
    limit_cost = serializers.DecimalField(max_digits=22, decimal_places=6, required=False)
    component_type = serializers.CharField(max_length=60, required=False)
    limit_usage = serializers.DecimalField(max_digits=28, decimal_places=10, required=False)
    thresholds = serializers.JSONField(required=False)


class PolicyFiringSerializer(serializers.ModelSerializer):
    class Meta:
        list_serializer_class = ReadListSerializer
        model = PolicyFiring
        fields = ("uuid", "threshold", "period_start", "period_end", "value", "limit", "actions", "active",
                  "fired_at", "undone_at", "undo_reason")  # fmt: skip
        read_only_fields = fields


class PolicyViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """Policies: staff and the owning organisation's owners manage them; whoever sees the project, customer
    or offering's provider organisation sees them. Changing one evaluates it again."""

    serializer_class = PolicySerializer
    filterset_class = PolicyFilter

    def get_queryset(self):
        return selectors.policy_list(user=self.request.user)

    @extend_schema(request=PolicyCreateSerializer, responses={201: PolicySerializer})
    def create(self, request):
        payload = PolicyCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        model = SCOPE_MODELS[data.pop("scope_type")]
        rows = model.objects.visible_to(request.user)
        scope = load_row(rows, data.pop("scope_uuid"), missing=f"{model.__name__} not found.")
        policy = services.policy_create(actor=request.user, scope=scope, **data)
        return Response(self._fresh(policy), status=status.HTTP_201_CREATED)

    @extend_schema(request=PolicyUpdateSerializer, responses={200: PolicySerializer})
    def partial_update(self, request, uuid=None):
        policy = self.get_object()
        payload = PolicyUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        policy = services.policy_update(actor=request.user, policy=policy, **payload.validated_data)
        return Response(self._fresh(policy))

    def destroy(self, request, uuid=None):
        services.policy_delete(actor=request.user, policy=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=PolicyFiringSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def firings(self, request, uuid=None):
        """What the policy fired, newest first: the threshold, the period, the measure, and whether it still acts."""
        page = self.paginate_queryset(selectors.policy_firing_list(policy=self.get_object()))
        return self.get_paginated_response(PolicyFiringSerializer(page, many=True).data)

    def _fresh(self, policy):
        policy = self.get_queryset().filter(pk=policy.pk).first()
        if policy is None:
            raise NotFound("Policy not found.")
        return self.get_serializer(policy).data


def register(router):
    router.register("policies", PolicyViewSet, basename="policy")
