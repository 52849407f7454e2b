from django.contrib import admin, messages
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from common.exceptions import DomainError

from . import services
from .models import Webhook, WebhookDelivery

INLINE_DELIVERIES = 20
DELIVERY_FIELDS = (
    "event_uuid",
    "event_type",
    "state",
    "attempts",
    "last_status_code",
    "last_error",
    "next_attempt_at",
    "created",
    "delivered_at",
)


class WebhookDeliveryInline(admin.TabularInline):
    """The hook's latest deliveries, read-only (all of them: Webhook deliveries, filtered by hook)."""

    model = WebhookDelivery
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = f"latest {INLINE_DELIVERIES} deliveries"

    def get_queryset(self, request):
        latest = Window(RowNumber(), partition_by=F("hook_id"), order_by=[F("created").desc(), F("id").desc()])
        return super().get_queryset(request).annotate(rank=latest).filter(rank__lte=INLINE_DELIVERIES)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Hooks with their latest deliveries; the secret is never shown (it is not an editable field)."""

    list_display = (
        "destination_url",
        "created_by",
        "scope_type",
        "scope_uuid",
        "is_active",
        "consecutive_failures",
        "created",
    )
    list_filter = ("is_active", "scope_type", "created")
    search_fields = ("=uuid", "destination_url", "created_by__username", "=scope_uuid")
    list_select_related = ("created_by",)
    readonly_fields = (
        "uuid",
        "created_by",
        "destination_url",
        "event_types",
        "scope_type",
        "scope_uuid",
        "is_active",
        "disabled_reason",
        "consecutive_failures",
        "created",
        "modified",
    )
    inlines = [WebhookDeliveryInline]
    actions = ["enable_hooks", "disable_hooks"]

    def has_add_permission(self, request):
        return False  # hooks are made through the API, where the subscription rule and the URL are checked

    @admin.action(description="Enable the selected hooks (failure counts reset)")
    def enable_hooks(self, request, queryset):
        enabled = 0
        for hook in queryset.filter(is_active=False):
            try:
                services.webhook_enable(actor=request.user, hook=hook)
                enabled += 1
            except DomainError as exc:
                self.message_user(request, f"{hook}: {exc.message}", messages.ERROR)
        self.message_user(request, f"Enabled {enabled} hook(s).")

    @admin.action(description="Disable the selected hooks")
    def disable_hooks(self, request, queryset):
        disabled = 0
        for hook in queryset.filter(is_active=True):
            try:
                services.webhook_update(actor=request.user, hook=hook, is_active=False)
                disabled += 1
            except DomainError as exc:
                self.message_user(request, f"{hook}: {exc.message}", messages.ERROR)
        self.message_user(request, f"Disabled {disabled} hook(s).")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_type", "hook", "state", "attempts", "last_status_code", "created", "delivered_at")
    list_filter = ("state", "created")
    search_fields = ("=event_uuid", "event_type", "hook__destination_url")
    list_select_related = ("hook",)
    readonly_fields = ("hook", *DELIVERY_FIELDS, "payload")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
