from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.throttling import LoginThrottle
from common.api.viewsets import BaseViewSet
from federation import identity, services
from federation.filters import CustomerFilter, ProjectFilter, UserFilter
from federation.models import AuthToken, Customer, Project, Role, User

from . import serializers as s
from .authentication import HashedTokenAuthentication
from .membership import MembershipMixin
from .permissions import IsIdentityManager


class PasswordLoginView(APIView):
    """Exchange a username and password for an API token (send it as `Authorization: Token <key>`)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    @extend_schema(request=s.PasswordLoginSerializer, responses={200: s.TokenSerializer})
    def post(self, request):
        payload = s.PasswordLoginSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        key = services.token_login(request=request, **payload.validated_data)
        return Response({"token": key})


class LogoutView(APIView):
    """Revoke the token this request is made with."""

    authentication_classes = [HashedTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.token_revoke(actor=request.user, token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuthTokenViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    """The caller's own API tokens, to review and revoke (staff too see only their own).

    Revoking one's own token is not a write to the federation's data, so read-only accounts may too.
    """

    serializer_class = s.AuthTokenSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = []

    def get_queryset(self):
        return AuthToken.objects.usable_by(self.request.user)

    def destroy(self, request, uuid=None):
        services.token_revoke(actor=request.user, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerViewSet(MembershipMixin, mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = s.CustomerSerializer
    filterset_class = CustomerFilter

    def get_queryset(self):
        return Customer.objects.visible_to(self.request.user)

    @extend_schema(request=s.CustomerWriteSerializer, responses={201: s.CustomerSerializer})
    def create(self, request):
        payload = s.CustomerWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        customer = services.customer_create(actor=request.user, **payload.validated_data)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CustomerWriteSerializer, responses={200: s.CustomerSerializer})
    def update(self, request, uuid=None, partial=False):
        customer = self.get_object()
        payload = s.CustomerWriteSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        customer = services.customer_update(actor=request.user, customer=customer, **payload.validated_data)
        return Response(self.get_serializer(customer).data)

    @extend_schema(request=s.CustomerWriteSerializer, responses={200: s.CustomerSerializer})
    def partial_update(self, request, uuid=None):
        return self.update(request, uuid=uuid, partial=True)

    def destroy(self, request, uuid=None):
        services.customer_delete(actor=request.user, customer=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectViewSet(MembershipMixin, mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = s.ProjectSerializer
    filterset_class = ProjectFilter
    rows_from_values = True  # the list's page is read as values, not as model instances (the largest list)

    def get_queryset(self):
        return Project.objects.visible_to(self.request.user).select_related("customer")

    @extend_schema(request=s.ProjectWriteSerializer, responses={201: s.ProjectSerializer})
    def create(self, request):
        payload = s.ProjectWriteSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        project = services.project_create(actor=request.user, **payload.validated_data)
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ProjectUpdateSerializer, responses={200: s.ProjectSerializer})
    def update(self, request, uuid=None, partial=False):
        project = self.get_object()
        payload = s.ProjectUpdateSerializer(data=request.data, partial=partial, context={"request": request})
        payload.is_valid(raise_exception=True)
        project = services.project_update(actor=request.user, project=project, **payload.validated_data)
        return Response(self.get_serializer(project).data)

    @extend_schema(request=s.ProjectUpdateSerializer, responses={200: s.ProjectSerializer})
    def partial_update(self, request, uuid=None):
        return self.update(request, uuid=uuid, partial=True)

    def destroy(self, request, uuid=None):
        services.project_delete(actor=request.user, project=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = s.UserSerializer
    filterset_class = UserFilter

    def get_queryset(self):
        return User.objects.visible_to(self.request.user)

    @extend_schema(request=s.UserWriteSerializer, responses={201: s.UserSerializer})
    def create(self, request):
        payload = s.UserWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = identity.user_create(actor=request.user, **payload.validated_data)
        return Response(self.get_serializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses={200: s.CurrentUserSerializer})
    @extend_schema(methods=["PATCH"], request=s.CurrentUserUpdateSerializer, responses={200: s.CurrentUserSerializer})
    @action(detail=False, methods=["get", "patch"])
    def me(self, request):
        """The caller's account; PATCH changes their notification settings."""
        user = request.user
        if request.method == "PATCH":
            payload = s.CurrentUserUpdateSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            user = services.user_update_notification_settings(
                user=user, changes=payload.validated_data["notification_settings"]
            )
        return Response(s.CurrentUserSerializer(user, context=self.get_serializer_context()).data)


class RoleViewSet(mixins.RetrieveModelMixin, BaseViewSet):
    serializer_class = s.RoleSerializer
    queryset = Role.objects.all()
    pagination_class = None

    def list(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)


class RemoteEduteamsView(APIView):
    """Map a federated community identifier (CUID) to the local user, creating it from the registry.

    For staff and identity managers (`is_identity_manager`); everyone else gets a 403.
    """

    permission_classes = [IsAuthenticated, IsIdentityManager]

    @extend_schema(request=s.RemoteUserSerializer, responses={200: s.RemoteUserResponseSerializer})
    def post(self, request):
        payload = s.RemoteUserSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = identity.user_from_cuid(actor=request.user, cuid=payload.validated_data["cuid"])
        return Response({"uuid": str(user.uuid)})
