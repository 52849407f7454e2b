from django.contrib import admin

from .models import ComponentUsage


@admin.register(ComponentUsage)
class ComponentUsageAdmin(admin.ModelAdmin):
    list_display = ("resource", "component_type", "billing_period", "username", "usage", "decreased", "reported_at")
    list_filter = ("decreased", "component_type", "billing_period")
    search_fields = ("resource__name", "resource__uuid", "component_type", "username")
    list_select_related = ("resource",)
    raw_id_fields = ("resource",)
    readonly_fields = ("uuid", "created", "modified", "reported_at", "previous_usage")
