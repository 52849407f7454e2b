"""The provider-facing API: providers call these with their own signed tokens."""

from django.http import JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from protocol.messages import UPDATE_STATES, ConnectionComplete, OrderStatus, ProtocolError, parse_each
from providers import services

from .authentication import IsProvider, ProviderTokenAuthentication


def jwks_view(request):
    """Our public keys; providers verify our tokens with them. Old and new keys both appear during a rotation."""
    response = JsonResponse(services.published_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


class ProviderAPIView(APIView):
    authentication_classes = [ProviderTokenAuthentication]
    permission_classes = [IsProvider]

    def handle_exception(self, exc):
        if isinstance(exc, ProtocolError):
            return Response({"detail": exc.reason, "field": exc.field}, status=400)
        return super().handle_exception(exc)


def _order_status(data, path: str) -> OrderStatus:
    return OrderStatus.from_dict(data, path, UPDATE_STATES)


@extend_schema(exclude=True)
class OrderUpdatesView(ProviderAPIView):
    """A result per update, in order; an invalid update is refused on its own and the others are applied."""

    def post(self, request):
        items = parse_each(request.data, "updates", _order_status)
        results = services.order_updates_receive(provider=request.auth, items=items, raw=request.data["updates"])
        return Response({"results": results})


@extend_schema(exclude=True)
class UsagePushView(ProviderAPIView):
    """A result per record, in order; an invalid record is refused on its own and the others are stored."""

    def post(self, request):
        imported, results = services.usage_batch_import(provider=request.auth, data=request.data)
        return Response({"imported": imported, "results": results})


@extend_schema(exclude=True)
class ConnectionConfirmView(ProviderAPIView):
    def post(self, request):
        message = ConnectionComplete.from_dict(request.data)
        connection = services.connection_confirm(
            provider=request.auth,
            connection_id=message.connection_id,
            user_uuid=message.user_uuid,
            username=message.username,
        )
        return Response({"connection_id": str(connection.uuid), "state": connection.state})
