"""Support staff's view: the catalogue edited inline; orders moved only through the order services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from common.exceptions import DomainError

from . import services
from .models import Offering, OfferingComponent, Order, OrderState, Plan, PlanComponent, Resource, StateChange
from .services.validation import validate_options_schema


class OfferingTypeFilter(admin.AllValuesFieldListFilter):
    """Filter by the offering's type, headed so (orders have a type of their own)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "offering type"


class OfferingForm(forms.ModelForm):
    terms_of_service_link = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Offering
        fields = (
            "name",
            "description",
            "customer",
            "type",
            "state",
            "terms_of_service",
            "terms_of_service_link",
            "options",
            "auto_approve",
        )

    def clean_options(self):
        try:
            return validate_options_schema(self.cleaned_data.get("options"))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None


class OfferingComponentInline(admin.TabularInline):
    model = OfferingComponent
    extra = 0


class PlanInline(admin.TabularInline):
    model = Plan
    extra = 0
    fields = ("name", "unit", "archived")
    show_change_link = True


@admin.register(Offering)
class OfferingAdmin(admin.ModelAdmin):
    form = OfferingForm
    list_display = ("name", "customer", "type", "state", "auto_approve", "created")
    list_filter = ("state", "type", "auto_approve")
    search_fields = ("name", "uuid", "customer__name")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)
    readonly_fields = ("uuid", "created", "modified")
    inlines = [OfferingComponentInline, PlanInline]


class PlanComponentForm(forms.ModelForm):
    class Meta:
        model = PlanComponent
        fields = ("component", "price", "amount")

    def clean(self):
        data = super().clean()
        component, plan = data.get("component"), getattr(self.instance, "plan", None)
        if component is not None and plan is not None and component.offering_id != plan.offering_id:
            raise forms.ValidationError("The component belongs to another offering.")
        return data


class PlanComponentInline(admin.TabularInline):
    model = PlanComponent
    form = PlanComponentForm
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "offering", "unit", "archived", "created")
    list_filter = ("unit", "archived")
    search_fields = ("name", "uuid", "offering__name")
    list_select_related = ("offering",)
    raw_id_fields = ("offering",)
    readonly_fields = ("uuid", "created")
    inlines = [PlanComponentInline]


class StateChangeInline(admin.TabularInline):
    model = StateChange
    extra = 0
    can_delete = False
    fields = ("created", "from_state", "to_state", "actor", "message")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class OrderStateChangeInline(StateChangeInline):
    fk_name = "order"


class ResourceStateChangeInline(StateChangeInline):
    fk_name = "resource"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=2000,
        help_text="Shown to the people who placed the orders, on the order page and in their mail.",
    )


def _run(modeladmin, request, queryset, label, call):
    done = 0
    for order in queryset:
        try:
            call(order)
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"Order {order.uuid}: {exc.message}", level=messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done} order(s).", level=messages.SUCCESS)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("uuid", "type", "state", "offering", "project", "resource", "created_by", "created")
    list_filter = ("state", "type", ("offering__type", OfferingTypeFilter))
    search_fields = ("uuid", "resource__name", "project__name", "offering__name", "resource__backend_id")
    list_select_related = ("offering", "project", "resource", "created_by")
    inlines = [OrderStateChangeInline]
    actions = ["approve_by_consumer", "approve_by_provider", "reject", "mark_done", "mark_erred"]

    @admin.action(description="Approve as consumer")
    def approve_by_consumer(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            "Approved",
            lambda o: services.order_approve_by_consumer(order=o, actor=request.user),
        )

    @admin.action(description="Approve as provider (starts execution)")
    def approve_by_provider(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            "Approved",
            lambda o: services.order_approve_by_provider(order=o, actor=request.user),
        )

    @admin.action(description="Reject with a reason (as consumer or provider, by the order's state)")
    def reject(self, request, queryset):
        """First a page asking for the reason (shown to the order's creator), then the rejection."""
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Reject orders",
                "orders": queryset,
                "form": form,
                "action": "reject",
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/marketplace/order/reject.html", context)
        reason = form.cleaned_data["reason"]

        def call(order):
            if order.state == OrderState.PENDING_CONSUMER:
                return services.order_reject_by_consumer(order=order, actor=request.user, reason=reason)
            return services.order_reject_by_provider(order=order, actor=request.user, reason=reason)

        _run(self, request, queryset, "Rejected", call)
        return None

    @admin.action(description="Mark done (manual offerings)")
    def mark_done(self, request, queryset):
        _run(
            self, request, queryset, "Marked done", lambda o: services.order_set_state_done(order=o, actor=request.user)
        )

    @admin.action(description="Mark erred")
    def mark_erred(self, request, queryset):
        message = f"Marked as erred by {request.user} in the admin."
        _run(
            self,
            request,
            queryset,
            "Marked erred",
            lambda o: services.order_set_state_erred(order=o, actor=request.user, error_message=message),
        )


@admin.register(Resource)
class ResourceAdmin(ReadOnlyAdmin):
    list_display = ("name", "state", "paused", "offering", "project", "backend_id", "end_date", "created")
    list_filter = ("state", "paused", ("offering__type", OfferingTypeFilter))
    search_fields = ("name", "slug", "uuid", "backend_id", "project__name", "offering__name")
    list_select_related = ("offering", "project")
    inlines = [ResourceStateChangeInline]


@admin.register(StateChange)
class StateChangeAdmin(ReadOnlyAdmin):
    list_display = ("created", "order", "resource", "from_state", "to_state", "actor")
    list_filter = ("to_state",)
    search_fields = ("order__uuid", "resource__uuid", "resource__name", "message")
    list_select_related = ("order", "resource", "actor")
