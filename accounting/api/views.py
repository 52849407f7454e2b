from django.db.models import OuterRef, Subquery
from rest_framework import mixins

from accounting.filters import ComponentUsageFilter
from accounting.models import ComponentUsage
from federation.api.viewsets import BaseViewSet
from marketplace.models import OfferingComponent

from .serializers import ComponentUsageSerializer


class ComponentUsageViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """Usage per resource, component and billing month, as reported by providers."""

    serializer_class = ComponentUsageSerializer
    filterset_class = ComponentUsageFilter

    def get_queryset(self):
        component = OfferingComponent.objects.filter(
            offering_id=OuterRef("resource__offering_id"), type=OuterRef("component_type")
        )
        return (
            ComponentUsage.objects.visible_to(self.request.user)
            .select_related("resource__offering", "resource__project__customer")
            .annotate(
                component_name=Subquery(component.values("name")[:1]),
                component_unit=Subquery(component.values("measured_unit")[:1]),
            )
        )
