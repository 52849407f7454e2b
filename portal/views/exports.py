"""CSV downloads of the portal's lists: the same filter set, ordering and visibility as the page, every
row (not one page), streamed from one query whatever the number of rows."""

import csv
from datetime import UTC

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.utils import timezone

from marketplace import selectors
from marketplace.filters import ResourceFilter

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


class _Echo:
    """A file whose write returns the line, so csv.writer feeds a streaming response."""

    def write(self, value):
        return value


def cell(value) -> str:
    """A text cell that a spreadsheet will not run as a formula (=, +, -, @ first are quoted with ')."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


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
            r.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        )


@login_required
def resource_list_csv(request):
    filterset = ResourceFilter(request.GET, queryset=selectors.resource_list(user=request.user), request=request)
    rows = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in _resource_rows(rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="resources-{timezone.localdate():%Y-%m-%d}.csv"'
    return response
