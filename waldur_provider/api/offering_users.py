"""`marketplace-offering-users`: who may use an offering served by a Waldur site agent, and as whom.

Nothing is stored: an offering user is a member (now or before) of a project holding a live resource of the offering,
always in Waldur's state `OK`, with their username here as their username at the site.
"""

import uuid as uuid_lib

from drf_spectacular.utils import OpenApiParameter, extend_schema

from common.api.fields import detail_url, parse_uuid
from common.api.viewsets import BaseViewSet
from common.exceptions import ValidationFailed
from waldur_provider.selectors import offering_user_list

from .fields import sparse
from .serializers import AGENT_NAMESPACE, OfferingUserSerializer

OFFERING_USER_STATE = "OK"


def offering_user_uuid(offering, person) -> uuid_lib.UUID:
    return uuid_lib.uuid5(AGENT_NAMESPACE, f"offering-user:{offering.uuid}:{person.uuid}")


def _row(request, offering, person) -> dict:
    key = offering_user_uuid(offering, person)
    first, _, last = person.full_name.partition(" ")
    return {
        "url": request.build_absolute_uri(f"/api/marketplace-offering-users/{key}/"),
        "uuid": str(key),
        "user": detail_url(request, "user-detail", person.uuid),
        "user_uuid": str(person.uuid),
        "user_username": person.username,
        "user_full_name": person.full_name,
        "user_first_name": first,
        "user_last_name": last,
        "user_email": person.email,
        "offering": detail_url(request, "marketplace-provider-offering-detail", offering.uuid),
        "offering_uuid": str(offering.uuid),
        "offering_name": offering.name,
        "customer_uuid": str(offering.customer.uuid),
        "customer_name": offering.customer.name,
        "username": person.username,
        "state": OFFERING_USER_STATE,
        "is_restricted": False,
        "created": offering.created.isoformat(),
        "modified": offering.modified.isoformat(),
    }


def _uuid_param(request, name: str):
    value = request.query_params.get(name)
    if value is None:
        return None
    key = parse_uuid(value)
    if key is None:
        raise ValidationFailed(f"{name} must be a uuid.", field=name)
    return key


class OfferingUserViewSet(BaseViewSet):
    """Offering users of the offerings you provide; filters `offering_uuid`, `user_uuid`, `state`,
    `is_restricted` (nobody is restricted) and `field`."""

    serializer_class = OfferingUserSerializer
    filter_backends = []  # the rows are built from role grants; the filters are read by `list`

    @extend_schema(
        parameters=[
            OpenApiParameter("offering_uuid", str),
            OpenApiParameter("user_uuid", str),
            OpenApiParameter("state", str, many=True),
            OpenApiParameter("is_restricted", bool),
            OpenApiParameter("field", str, many=True),
        ]
    )
    def list(self, request):
        pairs = offering_user_list(
            user=request.user,
            offering_uuid=_uuid_param(request, "offering_uuid"),
            user_uuid=_uuid_param(request, "user_uuid"),
        )
        states = request.query_params.getlist("state")
        restricted = request.query_params.get("is_restricted", "").lower() == "true"
        if restricted or (states and OFFERING_USER_STATE not in states):
            pairs = []
        page = self.paginate_queryset(pairs)
        rows = [_row(request, offering, person) for offering, person in page]
        return self.get_paginated_response(sparse(rows, request))
