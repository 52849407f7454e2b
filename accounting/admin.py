from django.contrib import admin
from django.db.models import Max, Min
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from common.admin import number_field
from common.exceptions import ValidationFailed

from . import reports
from .api.reports import report_response
from .invoicing import admin as invoicing_admin  # noqa: F401  (registers the invoice admin)
from .models import ComponentUsage
from .policies import admin as policies_admin  # noqa: F401  (registers the policy admin)
from .shares import admin as shares_admin  # noqa: F401  (registers the share admin)


@admin.register(ComponentUsage)
class ComponentUsageAdmin(admin.ModelAdmin):
    list_display = (
        "resource", "component_type", "billing_period", "username", "usage_shown", "decreased", "reported_at",
    )  # fmt: skip
    list_filter = ("decreased", "component_type", "billing_period")
    search_fields = ("resource__name", "resource__uuid", "component_type", "username")
    list_select_related = ("resource",)
    raw_id_fields = ("resource",)
    fields = ("uuid", "resource", "component_type", "billing_period", "username", "usage_shown", "previous_usage_shown",
              "decreased", "description", "reported_at", "created", "modified")  # fmt: skip
    readonly_fields = fields
    actions = ["export_usage_report"]

    usage_shown = number_field("usage", "Usage")
    previous_usage_shown = number_field("previous_usage", "Previous usage")

    def has_add_permission(self, request):
        return False  # usage comes from providers, through the ingestion service

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        report = path("report/", self.admin_site.admin_view(self.usage_report), name="accounting_usage_report")
        return [report, *super().get_urls()]

    def usage_report(self, request):
        """The usage report as CSV, for staff: `group_by`, `start` and `end` as in /api/usage-reports/."""
        try:
            params = reports.report_params({**request.GET.dict(), "format": "csv"}, today=timezone.localdate())
        except ValidationFailed as exc:
            return HttpResponseBadRequest(f"{exc.field}: {exc.message}", content_type="text/plain")
        return report_response(reports.report_rows(user=request.user, params=params), params)

    @admin.action(description="Export the usage report of these rows' months, per customer (CSV)")
    def export_usage_report(self, request, queryset):
        months = queryset.aggregate(first=Min("billing_period"), last=Max("billing_period"))
        query = {"group_by": "customer", "start": f"{months['first']:%Y-%m}", "end": f"{months['last']:%Y-%m}"}
        return redirect(f"{reverse('admin:accounting_usage_report')}?{urlencode(query)}")
