from django.contrib import admin

from .models import MailNotification


@admin.register(MailNotification)
class MailNotificationAdmin(admin.ModelAdmin):
    """Read-only: rows are written from events and sent by the worker; the admin shows where mail stands."""

    list_display = ("created", "user", "kind", "subject", "state", "attempts", "sent_at")
    list_filter = ("state", "kind", "event_type", ("user", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("=event_uuid", "user__username", "user__email", "subject", "message_id")
    raw_id_fields = ("user",)
    date_hierarchy = "created"
    readonly_fields = [field.name for field in MailNotification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
