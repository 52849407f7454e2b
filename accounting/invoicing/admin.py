"""Invoices in the admin: read-only, items inline, a thin "recompute" action, late usage listed."""

from django.contrib import admin, messages

from common.admin import number_field

from .models import Invoice, InvoiceItem, InvoiceState
from .selectors import usage_after_close
from .services import invoice_recompute

ITEM_FIELDS = ("resource_name", "project_name", "offering_name", "plan_name", "component_type", "billing_type",
               "quantity_shown", "unit", "unit_price_shown", "start", "end", "price_shown")  # fmt: skip


class InvoiceItemInline(admin.TabularInline):
    model = InvoiceItem
    fields = ITEM_FIELDS
    readonly_fields = ITEM_FIELDS
    extra = 0
    can_delete = False
    show_change_link = False

    quantity_shown = number_field("quantity", "Quantity")
    unit_price_shown = number_field("unit_price", "Unit price", kind="unit_price")
    price_shown = number_field("price", "Price", kind="money")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("customer", "year", "month", "state", "total_shown", "modified")
    list_filter = ("state", "year", "month")
    search_fields = ("customer__name", "customer__uuid", "uuid")
    list_select_related = ("customer",)
    readonly_fields = ("uuid", "customer", "year", "month", "state", "total_shown", "currency", "created", "modified",
                       "late_usage")  # fmt: skip
    inlines = [InvoiceItemInline]
    total_shown = number_field("total", "Total", kind="money")
    actions = ["recompute"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Usage reported after closing (not billed)")
    def late_usage(self, obj):
        if obj.state != InvoiceState.CREATED:
            return "-"
        rows = usage_after_close().filter(
            resource__project__customer_id=obj.customer_id,
            billing_period__year=obj.year,
            billing_period__month=obj.month,
        )
        return ", ".join(f"{row.resource.name} {row.component_type}: {row.usage}" for row in rows[:50]) or "none"

    @admin.action(description="Recompute the selected pending invoices")
    def recompute(self, request, queryset):
        pending = queryset.filter(state=InvoiceState.PENDING).select_related("customer")
        for invoice in pending:
            invoice_recompute(customer=invoice.customer, year=invoice.year, month=invoice.month)
        skipped = queryset.count() - len(pending)
        self.message_user(request, f"Recomputed {len(pending)} invoice(s); {skipped} closed one(s) left as they are.",
                          messages.SUCCESS)  # fmt: skip
