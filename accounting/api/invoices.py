"""`/api/invoices/` and `/api/invoice-items/`: monthly invoices per customer in Waldur's shape, read-only."""

from urllib.parse import urlencode

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers

from accounting.invoicing import selectors
from accounting.invoicing.filters import InvoiceFilter, InvoiceItemFilter
from accounting.invoicing.models import Invoice, InvoiceItem
from common.api.fields import UrlField
from common.api.serializers import ReadListSerializer
from common.api.viewsets import BaseViewSet


@extend_schema_field(OpenApiTypes.URI)
class ItemsUrlField(serializers.Field):
    """The invoice-items list filtered to this invoice."""

    def __init__(self, **kwargs):
        kwargs.update(read_only=True, source="uuid")
        super().__init__(**kwargs)

    def to_representation(self, value):
        base = self.__dict__.get("_base")
        if base is None:
            request = self.context.get("request")
            path = reverse("invoice-item-list")
            base = self._base = request.build_absolute_uri(path) if request is not None else path
        return f"{base}?{urlencode({'invoice_uuid': str(value)})}"


class InvoiceSerializer(serializers.ModelSerializer):
    url = UrlField("invoice-detail")
    customer = UrlField("customer-detail", source="customer.uuid")
    customer_uuid = serializers.UUIDField(source="customer.uuid")
    customer_name = serializers.CharField(source="customer.name")
    items = ItemsUrlField()
    items_count = serializers.IntegerField()

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Invoice
        fields = ("uuid", "url", "customer", "customer_uuid", "customer_name", "year", "month", "state", "total",
                  "currency", "items", "items_count", "created", "modified")  # fmt: skip
        read_only_fields = fields


class InvoiceItemSerializer(serializers.ModelSerializer):
    invoice = UrlField("invoice-detail", source="invoice_uuid")
    invoice_uuid = serializers.UUIDField()
    resource = UrlField("marketplace-resource-detail", source="resource.uuid", default=None)
    resource_uuid = serializers.UUIDField(source="resource.uuid", default=None)

    class Meta:
        list_serializer_class = ReadListSerializer
        model = InvoiceItem
        fields = ("uuid", "invoice", "invoice_uuid", "resource", "resource_uuid", "resource_name", "project_uuid",
                  "project_name", "offering_name", "plan_name", "component_type", "billing_type", "quantity",
                  "unit_price", "unit", "start", "end", "price")  # fmt: skip
        read_only_fields = fields


class InvoiceViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """Monthly invoices: `pending` while the month is open and recomputed as usage arrives, `created` once closed."""

    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter

    def get_queryset(self):
        return selectors.invoice_list(user=self.request.user)


class InvoiceItemViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """Invoice lines: one component of one resource over one plan period of the month."""

    serializer_class = InvoiceItemSerializer
    filterset_class = InvoiceItemFilter

    def get_queryset(self):
        return selectors.invoice_item_list(user=self.request.user)


def register(router):
    router.register("invoices", InvoiceViewSet, basename="invoice")
    router.register("invoice-items", InvoiceItemViewSet, basename="invoice-item")
