"""Support staff see which agents listen in event mode and whether their messages went out."""

from django.contrib import admin
from django.db.models import Count, Q

from .models import AgentMessage, AgentQueue


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AgentQueue)
class AgentQueueAdmin(ReadOnlyAdmin):
    list_display = ("queue_name", "rmq_username", "offering", "object_types", "unsent", "modified")
    list_select_related = ("offering", "user")
    search_fields = ("offering__name", "user__username", "=offering__uuid")
    readonly_fields = ("uuid", "user", "offering", "object_types", "created", "modified")
    exclude = ("token_hash",)

    def get_queryset(self, request):
        unsent = Count("messages", filter=Q(messages__sent_at__isnull=True))
        return super().get_queryset(request).annotate(unsent_count=unsent)

    @admin.display(description="unsent messages", ordering="unsent_count")
    def unsent(self, queue):
        return queue.unsent_count


@admin.register(AgentMessage)
class AgentMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "queue", "body", "created", "sent_at", "attempts", "last_error")
    list_select_related = ("queue__offering", "queue__user")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), "created")
    search_fields = ("=event_uuid", "queue__offering__name")
    readonly_fields = ("queue", "event_uuid", "body", "created", "sent_at", "attempts", "last_error")
