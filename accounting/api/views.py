from rest_framework import mixins

from accounting import selectors
from accounting.filters import ComponentUsageFilter
from common.api.viewsets import BaseViewSet

from .serializers import ComponentUsageSerializer


class ComponentUsageViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """Usage per resource, component and billing month, as reported by providers."""

    serializer_class = ComponentUsageSerializer
    filterset_class = ComponentUsageFilter

    def get_queryset(self):
        return selectors.component_usage_list(user=self.request.user)
