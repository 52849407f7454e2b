"""Membership actions (`add_user`, `delete_user`, `update_user`, `list_users`) of customers and projects."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from federation import services
from federation.filters import RoleGrantFilter
from federation.selectors import role_grants_visible_to

from .serializers import DetailSerializer, MembershipSerializer, RoleGrantSerializer


class MembershipMixin:
    """`add_user`, `delete_user`, `update_user` and `list_users` on a customer or project."""

    def _membership(self, request):
        scope = self.get_object()
        payload = MembershipSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return scope, payload.validated_data

    @extend_schema(request=MembershipSerializer, responses={201: RoleGrantSerializer})
    @action(detail=True, methods=["post"])
    def add_user(self, request, uuid=None):
        scope, data = self._membership(request)
        grant = services.role_grant(
            actor=request.user,
            scope=scope,
            user=data["user"],
            role=data["role"],
            expiration_time=data.get("expiration_time"),
        )
        return Response(RoleGrantSerializer(grant, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MembershipSerializer, responses={200: DetailSerializer})
    @action(detail=True, methods=["post"])
    def delete_user(self, request, uuid=None):
        scope, data = self._membership(request)
        services.role_revoke(actor=request.user, scope=scope, user=data["user"], role=data["role"])
        return Response({"detail": "Role has been revoked."}, status=status.HTTP_200_OK)

    @extend_schema(request=MembershipSerializer, responses={200: RoleGrantSerializer})
    @action(detail=True, methods=["post"])
    def update_user(self, request, uuid=None):
        scope, data = self._membership(request)
        grant = services.role_update_expiration(
            actor=request.user,
            scope=scope,
            user=data["user"],
            role=data["role"],
            expiration_time=data.get("expiration_time"),
        )
        return Response(RoleGrantSerializer(grant, context={"request": request}).data)

    @extend_schema(
        responses=RoleGrantSerializer(many=True),
        parameters=[
            OpenApiParameter("role", str, description="Role name or uuid"),
            OpenApiParameter("user", OpenApiTypes.UUID, description="User uuid"),
        ],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def list_users(self, request, uuid=None):
        scope = self.get_object()  # through the view's queryset: visible_to(request.user)
        grants = role_grants_visible_to(request.user, scope=scope, scope_seen=True)
        grants = RoleGrantFilter(request.query_params, queryset=grants, request=request)
        if not grants.is_valid():
            return Response(grants.errors, status=status.HTTP_400_BAD_REQUEST)
        paginator = self.paginator
        page = paginator.paginate_queryset(grants.qs, request, view=self)
        data = RoleGrantSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)
