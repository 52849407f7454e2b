"""Policies in the admin: listed with their scope and firings; writes go through the services."""

from django.contrib import admin, messages

from common.admin import number_field
from common.exceptions import DomainError

from .models import Policy, PolicyFiring
from .services import policy_delete, policy_firings_expire

FIRING_FIELDS = ("threshold_shown", "period_start", "period_end", "value_shown", "limit_shown", "actions", "active",
                 "fired_at", "undone_at", "undo_reason", "paused_resources", "terminated_resources")  # fmt: skip


class FiringNumbers:
    threshold_shown = number_field("threshold", "Threshold (%)")
    value_shown = number_field("value", "Measured")
    limit_shown = number_field("limit", "Limit")


class PolicyFiringInline(FiringNumbers, admin.TabularInline):
    model = PolicyFiring
    fields = FIRING_FIELDS
    readonly_fields = FIRING_FIELDS
    extra = 0
    can_delete = False
    ordering = ("-fired_at",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ("uuid", "scope_type", "scope_name", "kind", "component_type", "limit_shown", "period", "created")
    list_filter = ("scope_type", "kind", "period")
    search_fields = ("uuid", "project__name", "customer__name", "offering__name", "component_type")
    list_select_related = ("project", "customer", "offering")
    readonly_fields = ("uuid", "scope_type", "project", "customer", "offering", "kind", "period",
                       "limit_cost_shown", "component_type", "limit_usage_shown", "thresholds", "created_by", "created",
                       "modified")  # fmt: skip
    inlines = [PolicyFiringInline]
    actions = ["delete_policies", "expire_ended_firings"]

    limit_cost_shown = number_field("limit_cost", "Cost limit", kind="money")
    limit_usage_shown = number_field("limit_usage", "Usage limit")
    limit_shown = number_field("limit", "Limit", sortable=False)

    def has_add_permission(self, request):
        return False  # made and changed through the API, which evaluates them

    def has_delete_permission(self, request, obj=None):
        return False  # see `delete_policies`: deleting undoes the firings first

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Delete the selected policies (their blocks lift, paused resources resume)")
    def delete_policies(self, request, queryset):
        deleted = 0
        for policy in queryset.select_related("project__customer", "customer", "offering__customer"):
            try:
                policy_delete(actor=request.user, policy=policy)
                deleted += 1
            except DomainError as exc:
                self.message_user(request, f"{policy}: {exc.message}", messages.ERROR)
        self.message_user(request, f"Deleted {deleted} policy(ies).", messages.SUCCESS)

    @admin.action(description="Undo the firings of ended periods now (as the beat task does)")
    def expire_ended_firings(self, request, queryset):
        try:
            count = policy_firings_expire()
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Undid {count} firing(s) of ended periods.", messages.SUCCESS)


@admin.register(PolicyFiring)
class PolicyFiringAdmin(FiringNumbers, admin.ModelAdmin):
    list_display = ("policy", "threshold_shown", "period_start", "active", "fired_at", "undo_reason")
    list_filter = ("active", "undo_reason", "period_start")
    search_fields = ("policy__uuid", "uuid")
    list_select_related = ("policy__project", "policy__customer", "policy__offering")
    readonly_fields = ("uuid", "policy", *FIRING_FIELDS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
