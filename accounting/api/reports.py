"""`/api/usage-reports/`: usage, limits, costs and utilisation per group and month, as JSON or CSV.

Both formats are streamed: the rows come from a server-side cursor (see `accounting.reports`) and
each is written as it is read. Decimals are written exactly, as strings without trailing zeros.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.negotiation import DefaultContentNegotiation

from accounting.reports import COLUMNS, FORMATS, GROUPINGS, ReportParams, report_params, report_rows
from common.api.schema import FederationAutoSchema


class _FormatIsAParameter(DefaultContentNegotiation):
    """`format` names the report's format here (checked by the view, 400 when unknown), not a renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


class _Echo:
    def write(self, value):
        return value


def csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow([_text(row[column]) for column in COLUMNS])


def json_chunks(rows: Iterable[dict]) -> Iterator[str]:
    """A JSON array written row by row; numbers as exact decimal strings, null when absent."""
    yield "["
    for index, row in enumerate(rows):
        body = {column: (None if row[column] is None else _text(row[column])) for column in COLUMNS}
        yield ("," if index else "") + json.dumps(body)
    yield "]"


def report_response(rows: Iterable[dict], params: ReportParams) -> StreamingHttpResponse:
    if params.format == "csv":
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
        name = f"usage-{params.group_by}-{params.start:%Y-%m}-{params.end:%Y-%m}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return StreamingHttpResponse(json_chunks(rows), content_type="application/json")


class UsageReportRowSerializer(serializers.Serializer):
    """One row of the report (documents the JSON; the rows are written by `json_chunks`)."""

    group = serializers.CharField(allow_blank=True)
    group_name = serializers.CharField(allow_blank=True)
    month = serializers.CharField(help_text="YYYY-MM")
    component_type = serializers.CharField(allow_blank=True)
    usage = serializers.CharField(allow_null=True)
    limit = serializers.CharField(allow_null=True)
    cost = serializers.CharField(allow_null=True)
    utilisation = serializers.CharField(allow_null=True)


class UsageReportViewSet(viewsets.ViewSet):
    """Usage, limits, costs and utilisation per group, month and component, over the resources you may see."""

    content_negotiation_class = _FormatIsAParameter
    schema = FederationAutoSchema()

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", str, enum=list(GROUPINGS), description="Default: customer."),
            OpenApiParameter("start", str, description="First month, YYYY-MM (default: eleven months before end)."),
            OpenApiParameter("end", str, description="Last month, YYYY-MM (default: this month)."),
            OpenApiParameter("format", str, enum=list(FORMATS), description="Default: json."),
        ],
        responses={(200, "application/json"): UsageReportRowSerializer(many=True), (200, "text/csv"): OpenApiTypes.STR},
    )
    def list(self, request):
        params = report_params(request.query_params, today=timezone.localdate())
        return report_response(report_rows(user=request.user, params=params), params)


def register(router):
    router.register("usage-reports", UsageReportViewSet, basename="usage-report")
