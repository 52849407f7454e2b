from django.contrib import admin

from .models import ApelMapping, ApelProjectVO, ApelRecord, UnmatchedApelRecord


@admin.register(ApelMapping)
class ApelMappingAdmin(admin.ModelAdmin):
    """Saving runs the mapping's checks (`ApelMapping.clean` → `mapping_problems`)."""

    list_display = ("offering", "kind", "site_name", "service", "benchmark_type", "benchmark_value")
    list_filter = ("kind",)
    search_fields = ("site_name", "service", "offering__name")
    raw_id_fields = ("offering",)
    list_select_related = ("offering",)


@admin.register(ApelProjectVO)
class ApelProjectVOAdmin(admin.ModelAdmin):
    list_display = ("project", "vo")
    search_fields = ("vo", "project__name")
    raw_id_fields = ("project",)
    list_select_related = ("project",)


@admin.register(ApelRecord)
class ApelRecordAdmin(admin.ModelAdmin):
    list_display = ("format", "key", "month", "resource", "username", "received_at")
    list_filter = ("format", "month")
    search_fields = ("key", "username", "resource__name")
    list_select_related = ("resource",)
    raw_id_fields = ("resource", "mapping")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(UnmatchedApelRecord)
class UnmatchedApelRecordAdmin(admin.ModelAdmin):
    list_display = ("format", "site_name", "service", "vo", "reason", "times_received", "last_received_at")
    list_filter = ("format", "site_name")
    search_fields = ("site_name", "service", "vo", "reason", "record")
    list_select_related = ("provider",)
    readonly_fields = [f.name for f in UnmatchedApelRecord._meta.fields]

    def has_add_permission(self, request):
        return False
