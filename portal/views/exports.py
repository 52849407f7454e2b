"""CSV downloads of the portal's lists: the same filter set, ordering and visibility as the page, every
row (not one page), streamed from one query whatever the number of rows."""

import csv
from datetime import UTC

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.utils import timezone

from marketplace import selectors
from marketplace.filters import OrderFilter, ResourceFilter

RESOURCE_COLUMNS = (
    "Resource",
    "UUID",
    "Offering",
    "Provider",
    "Project",
    "Organisation",
    "State",
    "Backend ID",
    "Created (UTC)",
)
ORDER_COLUMNS = (
    "Order UUID",
    "Type",
    "Resource",
    "Resource UUID",
    "Offering",
    "Provider",
    "Project",
    "Organisation",
    "State",
    "Placed by",
    "Created (UTC)",
)


class _Echo:
    """A file whose write returns the line, so csv.writer feeds a streaming response."""

    def write(self, value):
        return value


def cell(value) -> str:
    """A text cell that a spreadsheet will not run as a formula (=, +, -, @ first are quoted with ')."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _utc(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _resource_rows(resources):
    yield RESOURCE_COLUMNS
    for r in resources.iterator(chunk_size=2000):
        yield (
            cell(r.name),
            r.uuid,
            cell(r.offering.name),
            cell(r.offering.customer.name),
            cell(r.project.name),
            cell(r.project.customer.name),
            r.get_state_display(),
            cell(r.backend_id),
            _utc(r.created),
        )


def _order_rows(orders):
    yield ORDER_COLUMNS
    for o in orders.iterator(chunk_size=2000):
        yield (
            o.uuid,
            o.get_type_display(),
            cell(o.resource.name) if o.resource else "",
            o.resource.uuid if o.resource else "",
            cell(o.offering.name),
            cell(o.offering.customer.name),
            cell(o.project.name),
            cell(o.project.customer.name),
            o.get_state_display(),
            cell(o.created_by) if o.created_by else "",
            _utc(o.created),
        )


def _csv_download(request, *, filter_class, queryset, rows, name):
    """The filter set's rows (every one, not one page) streamed as `<name>-<today>.csv`; an invalid filter
    gives the header alone rather than every row."""
    filterset = filter_class(request.GET, queryset=queryset, request=request)
    selected = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows(selected)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


@login_required
def resource_list_csv(request):
    return _csv_download(
        request,
        filter_class=ResourceFilter,
        queryset=selectors.resource_list(user=request.user, listing=True),
        rows=_resource_rows,
        name="resources",
    )


@login_required
def order_list_csv(request):
    return _csv_download(
        request,
        filter_class=OrderFilter,
        queryset=selectors.order_list(user=request.user, listing=True),
        rows=_order_rows,
        name="orders",
    )
