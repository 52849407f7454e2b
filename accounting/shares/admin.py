"""Shares in the admin: read-only, with what each has given out, used and left (granted through /api/shares/)."""

from django.contrib import admin
from django.utils import timezone

from common.admin import number_field
from common.formatting import plain_number

from .models import Share
from .selectors import share_details


class ChildInline(admin.TabularInline):
    model = Share
    fk_name = "parent"
    verbose_name_plural = "Project shares"
    fields = ("project", "amount_shown", "start_date", "end_date")
    readonly_fields = fields
    amount_shown = number_field("amount", "Amount")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    list_display = ("offering", "component_type", "customer", "project", "amount_shown", "allocated", "used",
                    "remaining", "start_date", "end_date")  # fmt: skip
    list_filter = ("component_type", "start_date", "end_date")
    search_fields = ("uuid", "customer__name", "project__name", "offering__name", "component_type")
    list_select_related = ("offering", "customer", "project", "parent")
    readonly_fields = ("uuid", "offering", "component_type", "customer", "project", "parent", "amount_shown",
                       "start_date", "end_date", "allocated", "used", "remaining", "created_by", "created",
                       "modified")  # fmt: skip
    inlines = [ChildInline]
    amount_shown = number_field("amount", "Amount")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        _attach_figures(list(changelist.result_list))
        return changelist

    def _figures(self, obj):
        if not hasattr(obj, "_figures"):
            _attach_figures([obj])
        return obj._figures

    @admin.display(description="Allocated")
    def allocated(self, obj):
        return plain_number(self._figures(obj).allocated)

    @admin.display(description="Used")
    def used(self, obj):
        return plain_number(self._figures(obj).used)

    @admin.display(description="Remaining")
    def remaining(self, obj):
        return plain_number(self._figures(obj).remaining)


def _attach_figures(shares: list[Share]) -> None:
    figures = share_details(shares, today=timezone.localdate()).figures
    for share in shares:
        share._figures = figures[share.id]
