import django_filters

from .models import Invoice, InvoiceItem, InvoiceState


class InvoiceFilter(django_filters.FilterSet):
    customer_uuid = django_filters.UUIDFilter(field_name="customer__uuid")
    year = django_filters.NumberFilter()
    month = django_filters.NumberFilter()
    state = django_filters.MultipleChoiceFilter(choices=InvoiceState.choices)

    class Meta:
        model = Invoice
        fields = []


class InvoiceItemFilter(django_filters.FilterSet):
    invoice_uuid = django_filters.UUIDFilter(field_name="invoice__uuid")
    project_uuid = django_filters.UUIDFilter()
    resource_uuid = django_filters.UUIDFilter(field_name="resource__uuid")
    customer_uuid = django_filters.UUIDFilter(field_name="invoice__customer__uuid")

    class Meta:
        model = InvoiceItem
        fields = []
