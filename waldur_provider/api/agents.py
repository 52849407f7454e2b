"""Waldur site agents' identities, services and processors: answered, not stored.

At start-up and on every cycle, waldur-site-agent looks up its identity (`agent-<offering uuid>`),
creates or updates it, registers the service of its mode and the processor it runs, and stops if any
of these calls fails. We keep no record of them: each offering has exactly one identity, whose uuid is
derived from the offering's, and services and processors are derived from the identity's the same
way, so repeated registrations answer the same objects. Only the offering's service accounts (the
owners of its provider organisation) and staff get an answer; everyone else gets 404.
"""

from __future__ import annotations

import re
import uuid as uuid_lib

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import authentication, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.schema import FederationAutoSchema
from common.api.viewsets import BaseViewSet
from common.exceptions import NotFound
from waldur_provider import event_queues
from waldur_provider.selectors import provider_offering_list

from . import serializers as s

NAME = re.compile(r"^agent-([0-9a-fA-F-]{32,36})$")

_ANY = inline_serializer("WaldurAgentObject", fields={"uuid": serializers.UUIDField(), "url": serializers.URLField()})


def identity_uuid(offering) -> uuid_lib.UUID:
    return uuid_lib.uuid5(s.AGENT_NAMESPACE, f"identity:{offering.uuid}")


def service_uuid(identity: uuid_lib.UUID, name: str) -> uuid_lib.UUID:
    return uuid_lib.uuid5(identity, f"service:{name}")


def processor_uuid(service: uuid_lib.UUID, name: str) -> uuid_lib.UUID:
    return uuid_lib.uuid5(service, f"processor:{name}")


def _url(request, path: str) -> str:
    return request.build_absolute_uri(f"/api/{path}/")


def _identity(request, offering, name: str) -> dict:
    key = identity_uuid(offering)
    return {
        "uuid": str(key),
        "url": _url(request, f"marketplace-site-agent-identities/{key}"),
        "offering": str(offering.uuid),
        "created_by": None,
        "name": name,
        "created": offering.created.isoformat(),
        "modified": timezone.now().isoformat(),
        "services": [],
    }


def _token_key(request) -> str:
    """The API token of the request (empty for a session): the agent's RabbitMQ password."""
    header = authentication.get_authorization_header(request).split()
    if len(header) == 2 and header[0].lower() == b"token":
        return header[1].decode(errors="replace")
    return ""


def _parse(value) -> uuid_lib.UUID | None:
    try:
        return uuid_lib.UUID(str(value))
    except ValueError:
        return None


class AgentIdentityViewSet(BaseViewSet):
    """`agent-<offering uuid>`: one identity per offering served by a Waldur site agent."""

    serializer_class = s.AgentIdentityRequestSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return provider_offering_list(user=self.request.user)

    def _offering(self, key) -> object:
        key = _parse(key)
        offering = None if key is None else self.get_queryset().filter(uuid=key).first()
        if offering is None:
            raise NotFound("No such offering among those you provide.")
        return offering

    def _by_identity(self, uuid: str):
        key = _parse(uuid)
        for offering in self.get_queryset():
            if identity_uuid(offering) == key:
                return offering
        raise NotFound("No such agent identity.")

    @extend_schema(responses=_ANY)
    def list(self, request):
        name = request.query_params.get("name")
        if name is None:
            offerings = self.get_queryset()
            return Response([_identity(request, o, f"agent-{o.uuid.hex}") for o in offerings])
        match = NAME.match(name)
        key = _parse(match.group(1)) if match else None
        offering = None if key is None else self.get_queryset().filter(uuid=key).first()
        return Response([_identity(request, offering, name)] if offering else [])

    @extend_schema(responses=_ANY)
    def retrieve(self, request, uuid=None):
        offering = self._by_identity(uuid)
        return Response(_identity(request, offering, f"agent-{offering.uuid.hex}"))

    @extend_schema(request=s.AgentIdentityRequestSerializer, responses={201: _ANY})
    def create(self, request):
        data = self._payload(s.AgentIdentityRequestSerializer)
        offering = self._offering(data["offering"])
        return Response(_identity(request, offering, data["name"]), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.AgentIdentityRequestSerializer, responses=_ANY)
    def update(self, request, uuid=None):
        offering = self._by_identity(uuid)
        data = self._payload(s.AgentIdentityRequestSerializer)
        if self._offering(data["offering"]) != offering:
            raise NotFound("The identity belongs to another offering.")
        return Response(_identity(request, offering, data["name"]))

    @extend_schema(request=s.AgentServiceRequestSerializer, responses={200: _ANY})
    @action(detail=True, methods=["post"])
    def register_service(self, request, uuid=None):
        offering = self._by_identity(uuid)
        data = self._payload(s.AgentServiceRequestSerializer)
        identity = identity_uuid(offering)
        key = service_uuid(identity, data["name"])
        return Response(
            {
                "uuid": str(key),
                "url": _url(request, f"marketplace-site-agent-services/{key}"),
                "identity": str(identity),
                "identity_name": f"agent-{offering.uuid.hex}",
                "name": data["name"],
                "mode": data.get("mode", ""),
                "state": "Active",
                "created": offering.created.isoformat(),
                "modified": timezone.now().isoformat(),
                "processors": [],
            }
        )

    @extend_schema(
        request=s.AgentQueueRegistrationSerializer,
        responses={200: s.AgentQueueSerializer, 201: s.AgentQueueSerializer},
    )
    @action(detail=True, methods=["post"])
    def register_queue(self, request, uuid=None):
        """Event mode: the agent's queue for the offering (made on first call), read over STOMP with
        `rmq_username` and the API token of this request as the password."""
        offering = self._by_identity(uuid)
        data = self._payload(s.AgentQueueRegistrationSerializer)
        queue, created = event_queues.queue_register(
            actor=request.user, offering=offering, object_types=data["object_types"], token=_token_key(request)
        )
        answer = s.AgentQueueSerializer(queue).data
        return Response(answer, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _payload(self, serializer_class) -> dict:
        payload = serializer_class(data=self.request.data)
        payload.is_valid(raise_exception=True)
        return payload.validated_data


class AgentServiceViewSet(viewsets.GenericViewSet):
    """The services of agent identities; only `register_processor` is answered (there is no list)."""

    serializer_class = s.AgentProcessorRequestSerializer
    lookup_field = "uuid"
    lookup_value_regex = BaseViewSet.lookup_value_regex
    schema = FederationAutoSchema()
    filter_backends = []

    def get_queryset(self):
        return provider_offering_list(user=self.request.user)

    @extend_schema(request=s.AgentProcessorRequestSerializer, responses={200: _ANY})
    @action(detail=True, methods=["post"])
    def register_processor(self, request, uuid=None):
        service = _parse(uuid)
        if service is None or not self.get_queryset().exists():
            raise NotFound("No such agent service.")
        payload = s.AgentProcessorRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        key = processor_uuid(service, data["name"])
        now = timezone.now().isoformat()
        return Response(
            {
                "uuid": str(key),
                "url": _url(request, f"marketplace-site-agent-processors/{key}"),
                "service": str(service),
                "service_name": "",
                "name": data["name"],
                "backend_type": data.get("backend_type", ""),
                "backend_version": data.get("backend_version", ""),
                "created": now,
                "modified": now,
            }
        )
