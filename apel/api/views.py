"""The APEL exchange over HTTP: providers send messages (signed), staff list what matched nothing and export."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterator
from datetime import date

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins
from rest_framework.response import Response
from rest_framework.views import APIView

from apel.filters import UnmatchedApelRecordFilter
from apel.messages import MessageRejected, element_names
from apel.models import UnmatchedApelRecord
from apel.services import apel_message_import, export_messages
from common.api.schema import FederationAutoSchema
from common.api.viewsets import BaseViewSet
from common.exceptions import NotFound, PermissionDenied, ValidationFailed
from common.querysets import reads_everything
from providers.api.provider_views import ProviderAPIView
from providers.models import Provider

from .serializers import ImportResultSerializer, UnmatchedApelRecordSerializer


@extend_schema(exclude=True)
class ApelMessageView(ProviderAPIView):
    """POST an APEL message as the body (text): 200 with counts, or 400 with APEL's reason and nothing stored."""

    def post(self, request):
        try:
            text = request._request.body.decode("utf-8")
        except UnicodeDecodeError:
            return Response({"detail": "The message must be UTF-8 text.", "record": None}, status=400)
        try:
            result = apel_message_import(text=text, provider=request.auth)
        except MessageRejected as exc:
            return Response({"detail": exc.reason, "record": exc.record}, status=400)
        return Response(ImportResultSerializer(result.to_dict()).data)


class UnmatchedApelRecordViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, BaseViewSet):
    """APEL records that named no mapped offering or resource, kept for staff (others see none)."""

    serializer_class = UnmatchedApelRecordSerializer
    filterset_class = UnmatchedApelRecordFilter

    def get_queryset(self):
        return UnmatchedApelRecord.objects.visible_to(self.request.user).select_related("provider")


def _month(value: str | None) -> date:
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ValidationFailed("Give the month as YYYY-MM.", field="month") from None


def export_tar(month: date, provider: Provider | None) -> Iterator[bytes]:
    """The month's messages as a tar of an SSM outgoing queue (`outgoing/<dir>/<element>`), streamed."""
    buffer = io.BytesIO()
    names = element_names()
    with tarfile.open(fileobj=buffer, mode="w|") as tar:
        for text, _ in export_messages(month=month, provider=provider):
            data = text.encode("utf-8")
            subdirectory, name = next(names)
            info = tarfile.TarInfo(f"outgoing/{subdirectory}/{name}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(data))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


class ApelExportView(APIView):
    schema = FederationAutoSchema()

    @extend_schema(
        parameters=[
            OpenApiParameter("month", str, required=True, description="YYYY-MM"),
            OpenApiParameter("provider", str, description="A provider's slug: only its offerings."),
        ],
        responses={
            (200, "application/x-tar"): OpenApiResponse(OpenApiTypes.BINARY, description="An SSM outgoing queue."),
        },
    )
    def get(self, request):
        """The month's usage as APEL summary messages (staff): a tar of an SSM outgoing queue, streamed."""
        if not reads_everything(request.user):
            raise PermissionDenied("Only staff export accounting.")
        month = _month(request.query_params.get("month"))
        if month > timezone.now().date().replace(day=1):
            raise ValidationFailed("A month in the future has no usage (APEL refuses it).", field="month")
        provider = None
        if request.query_params.get("provider"):
            provider = Provider.objects.filter(slug=request.query_params["provider"]).first()
            if provider is None:
                raise NotFound("No such provider.")
        response = StreamingHttpResponse(export_tar(month, provider), content_type="application/x-tar")
        response["Content-Disposition"] = f'attachment; filename="apel-{month:%Y-%m}.tar"'
        return response
