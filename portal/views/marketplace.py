"""The marketplace pages of the portal: catalogue, ordering, resources (with their usage), orders.

Reads go through the marketplace and accounting selectors and filter sets (the same ones the API uses),
writes through the marketplace services; a refused write is shown on its form, with the service's message,
next to its field.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.exceptions import DomainError
from federation.models import Project
from marketplace import selectors, services
from marketplace.filters import OfferingFilter, ResourceFilter
from marketplace.models import PENDING_ORDER_STATES, BillingType, OfferingState, OrderState, OrderType, ResourceState
from marketplace.permissions import can_cancel, can_order, can_review_as_consumer, can_review_as_provider
from marketplace.services.placing import RESOURCE_STATES_ALLOWING
from portal.filters import OrderListFilter
from portal.forms import LimitsForm, OrderForm
from portal.resource_status import resource_status
from portal.selectors import count_by, project_choices, projects_to_order_for, rows_by_ids_first, rows_from_counts
from portal.usage import resource_usage

PAGE_SIZE = 25
MAX_PAGE_SIZE = 200


def _page(request, filterset, *, sort_ids_first=False, count=None):
    """One page of a filter set's results; an invalid filter shows nothing rather than everything.

    With `sort_ids_first`, the page's ids are sorted alone and its rows then read with their joins, in one
    query: for a table with no index on the sort keys, PostgreSQL otherwise sorts every joined row (staff's
    resources list over 100,000 resources: 250 ms against 40). `count`, the number of rows when already
    known, spares the paginator its own count."""
    try:
        size = min(max(int(request.GET.get("page_size", PAGE_SIZE)), 1), MAX_PAGE_SIZE)
    except ValueError:
        size = PAGE_SIZE
    rows = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    paginator = Paginator(rows, size)
    if count is not None:
        paginator.count = count  # a cached property: the paginator reads it instead of counting
    page = paginator.get_page(request.GET.get("page"))
    if sort_ids_first and isinstance(page.object_list, QuerySet):
        page.object_list = rows_by_ids_first(rows, page.object_list)
    return page


def _visible_or_404(queryset, uuid):
    try:
        return queryset.get(uuid=uuid)
    except queryset.model.DoesNotExist:
        raise Http404 from None


# --- catalogue and ordering --------------------------------------------------------------------


@login_required
def offering_list(request):
    offerings = selectors.offering_list(user=request.user).filter(state=OfferingState.ACTIVE)
    filterset = OfferingFilter(request.GET, queryset=offerings, request=request)
    return render(request, "marketplace/offering_list.html", {"filter": filterset, "page": _page(request, filterset)})


@login_required
def offering_detail(request, uuid):
    offering = _visible_or_404(selectors.offering_list(user=request.user), uuid)
    projects = Project.objects.visible_to(request.user).filter(is_active=True).select_related("customer")
    if request.method != "POST":  # offer only the projects one may order for; a POST is judged by the service
        projects = projects_to_order_for(request.user, projects)
    form = OrderForm(request.POST or None, offering=offering, projects=projects)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_create(actor=request.user, **form.service_arguments())
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(
                request, f"Order placed: {order.type} {order.resource.name}, now {order.get_state_display().lower()}."
            )
            return redirect("portal-order", uuid=order.uuid)
    return render(request, "marketplace/offering_detail.html", {"offering": offering, "form": form})


# --- resources ---------------------------------------------------------------------------------


def _filtered_list(request, filter_class, queryset, states, template, *, state_counts=False, sort_ids_first=False):
    """A portal list page: the model's filter set over the selector, a page of it, and the filter choices
    (with `state_counts`, each state with the number of rows the other filters leave in it)."""
    filterset = filter_class(request.GET, queryset=queryset, request=request)
    total = None
    if state_counts:  # counted first: the list's total is their sum, without a count of its own
        counts = count_by(filterset, "state")
        states = [(value, f"{label} ({counts.get(value, 0)})") for value, label in states]
        total = rows_from_counts(filterset, "state", counts)
    page = _page(request, filterset, sort_ids_first=sort_ids_first, count=total)
    context = {
        "filter": filterset,
        "page": page,
        "total": page.paginator.count,  # already counted (or summed) for the page
        "projects": project_choices(Project.objects.visible_to(request.user).only("uuid", "name")),
        "states": states,
    }
    return render(request, template, context)


@login_required
def resource_list(request):
    queryset = selectors.resource_list(user=request.user, listing=True)
    return _filtered_list(
        request, ResourceFilter, queryset, ResourceState.choices, "marketplace/resource_list.html", sort_ids_first=True
    )


def _resource_page(request, resource, *, limits_form=None, status=200):
    components = list(resource.offering.components.all())
    # Asked once, of the same rule the services apply: who may order changes for the project.
    may_order = can_order(request.user, resource.project)
    orders = list(selectors.order_list(user=request.user).filter(resource=resource))
    context = {
        "resource": resource,
        "components": components,
        "month": timezone.localdate().replace(day=1),
        "usage": resource_usage(resource, components),
        "orders": orders,
        "status": resource_status(resource=resource, orders=orders, components=components, user=request.user),
        "history": selectors.state_change_list(user=request.user).filter(resource=resource),
        "limits_form": limits_form or LimitsForm(resource=resource, components=components),
        "may_order": may_order,
        "can_update": may_order
        and resource.state in RESOURCE_STATES_ALLOWING[OrderType.UPDATE]
        and any(c.billing_type == BillingType.LIMIT for c in components),
        "can_terminate": may_order and resource.state in RESOURCE_STATES_ALLOWING[OrderType.TERMINATE],
    }
    return render(request, "marketplace/resource_detail.html", context, status=status)


@login_required
def resource_detail(request, uuid):
    return _resource_page(request, _visible_or_404(selectors.resource_list(user=request.user), uuid))


@login_required
@require_POST
def resource_update_limits(request, uuid):
    resource = _visible_or_404(selectors.resource_list(user=request.user), uuid)
    form = LimitsForm(request.POST, resource=resource, components=list(resource.offering.components.all()))
    if form.is_valid():
        try:
            order = services.resource_update_limits(resource=resource, actor=request.user, limits=form.limits())
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, f"New limits ordered; the update order is {order.get_state_display().lower()}.")
            return redirect("portal-order", uuid=order.uuid)
    return _resource_page(request, resource, limits_form=form)


@login_required
def resource_terminate(request, uuid):
    """GET asks for confirmation; POST places the terminate order."""
    resource = _visible_or_404(selectors.resource_list(user=request.user), uuid)
    error = None
    if request.method == "POST":
        try:
            order = services.resource_terminate(resource=resource, actor=request.user)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request, f"Termination ordered; the terminate order is {order.get_state_display().lower()}."
            )
            return redirect("portal-order", uuid=order.uuid)
    return render(request, "marketplace/resource_terminate.html", {"resource": resource, "error": error})


# --- orders ------------------------------------------------------------------------------------


@login_required
def order_list(request):
    queryset = selectors.order_list(user=request.user, listing=True)
    return _filtered_list(
        request,
        OrderListFilter,
        queryset,
        OrderState.choices,
        "marketplace/order_list.html",
        state_counts=True,
        sort_ids_first=True,
    )


def _review_side(user, order) -> str | None:
    """The side of the review the order waits for, when `user` may give it."""
    if order.state == OrderState.PENDING_CONSUMER and can_review_as_consumer(user, order.project):
        return "consumer"
    if order.state == OrderState.PENDING_PROVIDER and can_review_as_provider(user, order.offering):
        return "provider"
    return None


def _order_limits(order) -> list[tuple[str, object, str]]:
    """The order's limits by component name, with the unit: [("CPU", 250, "k-hours"), …]."""
    components = {c.type: c for c in order.offering.components.all()}
    return [
        (components[key].name, value, components[key].measured_unit) if key in components else (key, value, "")
        for key, value in order.limits.items()
    ]


def _order_page(request, order, *, error=None, review_error=None, reason_error=False, status=200):
    context = {
        "order": order,
        "limits": _order_limits(order),
        "history": selectors.state_change_list(user=request.user).filter(order=order),
        "can_cancel": order.state in PENDING_ORDER_STATES and can_cancel(request.user, order),
        "review_side": _review_side(request.user, order),
        "error": error,
        "review_error": review_error,
        "reason_error": reason_error,
        "reason": request.POST.get("reason", "") if request.method == "POST" else "",
    }
    return render(request, "marketplace/order_detail.html", context, status=status)


@login_required
def order_detail(request, uuid):
    return _order_page(request, _visible_or_404(selectors.order_list(user=request.user), uuid))


@login_required
@require_POST
def order_cancel(request, uuid):
    order = _visible_or_404(selectors.order_list(user=request.user), uuid)
    try:
        services.order_cancel(order=order, actor=request.user)
    except DomainError as exc:
        return _order_page(request, order, error=exc.message)
    messages.success(request, "Order canceled.")
    return redirect("portal-order", uuid=order.uuid)


REVIEWS = {
    ("consumer", "approve"): services.order_approve_by_consumer,
    ("consumer", "reject"): services.order_reject_by_consumer,
    ("provider", "approve"): services.order_approve_by_provider,
    ("provider", "reject"): services.order_reject_by_provider,
}


@login_required
@require_POST
def order_review(request, uuid):
    """Approve or reject for the side named in the form; an order that moved on meanwhile is refused
    (409 from the service, shown on the page) rather than reviewed for the other side."""
    order = _visible_or_404(selectors.order_list(user=request.user), uuid)
    decision = request.POST.get("decision")
    review = REVIEWS.get((request.POST.get("side"), decision))
    if review is None:
        return _order_page(request, order, review_error="Choose to approve or reject the order.", status=400)
    arguments = {}
    if decision == "reject":  # the portal asks every reviewer why: the creator is told
        arguments["reason"] = request.POST.get("reason", "").strip()
        if not arguments["reason"]:
            error = "Give a reason for rejecting the order; it is shown to the person who placed it."
            return _order_page(request, order, review_error=error, reason_error=True, status=400)
    try:
        order = review(order=order, actor=request.user, **arguments)
    except DomainError as exc:
        order.refresh_from_db()
        return _order_page(request, order, review_error=exc.message, status=exc.status_code)
    messages.success(request, f"Order {request.POST['decision']}d; it is now {order.get_state_display().lower()}.")
    if request.POST.get("back") == "dashboard":  # reviewed from the dashboard's queue: back to it
        return redirect("portal-home")
    return redirect("portal-order", uuid=order.uuid)
