from django.contrib import admin, messages

from . import tasks
from .models import OutboxMessage, Provider, ProviderEndpoint, ProviderOffering, SigningKey, UserConnection


class ProviderEndpointInline(admin.TabularInline):
    model = ProviderEndpoint
    extra = 0
    fields = ("service_type", "url", "monitored")


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    inlines = [ProviderEndpointInline]
    list_display = (
        "slug",
        "name",
        "base_url",
        "env",
        "status",
        "available",
        "consecutive_failures",
        "last_delivery_at",
        "last_usage_pull_at",
    )
    list_filter = ("status", "available", "env")
    search_fields = ("slug", "name", "domain", "customer__name")
    raw_id_fields = ("customer",)
    readonly_fields = (
        "manifest",
        "manifest_fetched_at",
        "usage_cursor",
        "last_verify",
        "available",
        "consecutive_failures",
        "last_error",
        "last_manifest_pull_at",
        "last_usage_pull_at",
        "last_delivery_at",
        "last_failure_at",
        "created",
    )
    actions = ["pull_manifest_now"]

    def get_readonly_fields(self, request, obj=None):
        # The id is the provider's name in every token: it never changes once registered.
        return self.readonly_fields + (("slug",) if obj else ())

    @admin.action(description="Pull the manifest now")
    def pull_manifest_now(self, request, queryset):
        for provider in queryset:
            tasks.pull_manifest.delay(provider.id)
        self.message_user(request, f"Queued {queryset.count()} manifest pull(s).", messages.INFO)


@admin.register(ProviderOffering)
class ProviderOfferingAdmin(admin.ModelAdmin):
    list_display = ("offering", "provider")
    raw_id_fields = ("offering",)
    list_select_related = ("offering", "provider")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "provider", "kind", "order_uuid", "state", "attempts", "next_attempt_at", "delivered_at")
    list_filter = ("state", "kind", "provider")
    search_fields = ("order_uuid",)
    readonly_fields = (
        "uuid",
        "provider",
        "kind",
        "order_uuid",
        "payload",
        "attempts",
        "last_error",
        "created",
        "delivered_at",
    )
    actions = ["retry_now"]

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        from django.utils import timezone

        count = queryset.exclude(state=OutboxMessage.State.DELIVERED).update(
            state=OutboxMessage.State.PENDING, next_attempt_at=timezone.now()
        )
        tasks.deliver_all_due.delay()
        self.message_user(request, f"{count} message(s) queued again.", messages.INFO)


@admin.register(UserConnection)
class UserConnectionAdmin(admin.ModelAdmin):
    list_display = ("user", "provider", "state", "username", "connected_at")
    list_filter = ("state", "provider")
    search_fields = ("user__username", "username")
    raw_id_fields = ("user",)


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ("kid", "created", "active", "published")
    exclude = ("private_pem",)
    readonly_fields = ("kid", "created")

    def has_add_permission(self, request):
        return False
