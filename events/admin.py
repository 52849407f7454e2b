from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("created", "event_type", "actor_username", "scope_type", "scope_uuid", "dispatched_at")
    list_filter = ("event_type", "scope_type")
    search_fields = ("=uuid", "=scope_uuid", "=customer_uuid", "=project_uuid", "=resource_uuid", "=order_uuid")
    date_hierarchy = "created"
    readonly_fields = [field.name for field in Event._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
