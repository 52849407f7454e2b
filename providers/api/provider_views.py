"""The provider-facing API: providers call these with their own signed tokens."""

from django.http import JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from protocol.messages import ConnectionComplete, OrderUpdates, ProtocolError, UsageRecord
from providers import inbound
from providers.signing import published_jwks

from .authentication import IsProvider, ProviderTokenAuthentication


def jwks_view(request):
    """Our public keys; providers verify our tokens with them. Old and new keys both appear during a rotation."""
    response = JsonResponse(published_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


class ProviderAPIView(APIView):
    authentication_classes = [ProviderTokenAuthentication]
    permission_classes = [IsProvider]

    def handle_exception(self, exc):
        if isinstance(exc, ProtocolError):
            return Response({"detail": exc.reason, "field": exc.field}, status=400)
        return super().handle_exception(exc)


@extend_schema(exclude=True)
class OrderUpdatesView(ProviderAPIView):
    def post(self, request):
        updates = OrderUpdates.from_dict(request.data)
        return Response({"results": inbound.order_updates_apply(provider=request.auth, updates=updates.updates)})


@extend_schema(exclude=True)
class UsagePushView(ProviderAPIView):
    def post(self, request):
        if not isinstance(request.data, dict) or not isinstance(request.data.get("records"), list):
            raise ProtocolError("records", "must be a list")
        records = [UsageRecord.from_dict(r, f"records[{i}]") for i, r in enumerate(request.data["records"])]
        return Response({"imported": inbound.usage_records_import(provider=request.auth, records=records)})


@extend_schema(exclude=True)
class ConnectionConfirmView(ProviderAPIView):
    def post(self, request):
        message = ConnectionComplete.from_dict(request.data)
        connection = inbound.connection_confirm(
            provider=request.auth,
            connection_id=message.connection_id,
            user_uuid=message.user_uuid,
            username=message.username,
        )
        return Response({"connection_id": str(connection.uuid), "state": connection.state})
