from rest_framework import serializers

from common.api.fields import RelatedUrlField, UrlField, parse_uuid
from common.api.serializers import PrototypeFields, ReadListSerializer, optional_text
from federation.models import AuthToken, Customer, Project, Role, RoleGrant, User
from federation.notification_kinds import effective_settings

from .fields import VisibleUserFullNameField, VisibleUserUuidField


class CustomerSerializer(serializers.ModelSerializer):
    url = UrlField("customer-detail")

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Customer
        fields = (
            "url",
            "uuid",
            "name",
            "slug",
            "native_name",
            "abbreviation",
            "contact_details",
            "email",
            "phone_number",
            "backend_id",
            "created",
        )
        read_only_fields = fields


class CustomerWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    native_name = optional_text(max_length=160)
    abbreviation = optional_text(max_length=12)
    contact_details = optional_text(max_length=1000)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, allow_null=True)
    phone_number = optional_text(max_length=40)
    backend_id = optional_text(max_length=255)


class ProjectSerializer(PrototypeFields, serializers.ModelSerializer):
    url = UrlField("project-detail")
    customer = UrlField("customer-detail", source="customer.uuid")
    customer_uuid = serializers.UUIDField(source="customer.uuid", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    customer_native_name = serializers.CharField(source="customer.native_name", read_only=True)
    customer_abbreviation = serializers.CharField(source="customer.abbreviation", read_only=True)
    customer_slug = serializers.CharField(source="customer.slug", read_only=True)

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Project
        fields = (
            "url",
            "uuid",
            "name",
            "slug",
            "description",
            "customer",
            "customer_uuid",
            "customer_name",
            "customer_native_name",
            "customer_abbreviation",
            "customer_slug",
            "end_date",
            "backend_id",
            "oecd_fos_2007_code",
            "is_active",
            "created",
        )
        read_only_fields = fields


class ProjectWriteSerializer(serializers.Serializer):
    customer = RelatedUrlField("customer-detail", queryset=lambda request: Customer.objects.visible_to(request.user))
    name = serializers.CharField(max_length=200)
    description = optional_text(max_length=2000)
    end_date = serializers.DateField(required=False, allow_null=True)
    backend_id = optional_text(max_length=255)
    oecd_fos_2007_code = optional_text(max_length=5)


class ProjectUpdateSerializer(ProjectWriteSerializer):
    customer = None  # a project does not move between customers


class UserSerializer(serializers.ModelSerializer):
    url = UrlField("user-detail")

    class Meta:
        list_serializer_class = ReadListSerializer
        model = User
        fields = (
            "url",
            "uuid",
            "username",
            "full_name",
            "email",
            "cuid",
            "is_staff",
            "is_support",
            "is_identity_manager",
            "is_active",
            "date_joined",
            "registration_method",
        )
        read_only_fields = fields


class CurrentUserSerializer(UserSerializer):
    """The caller's own account (`/api/users/me/`): the public fields and their notification settings."""

    notification_settings = serializers.SerializerMethodField()

    class Meta(UserSerializer.Meta):
        fields = (*UserSerializer.Meta.fields, "notification_settings")
        read_only_fields = fields

    def get_notification_settings(self, user) -> dict[str, bool]:
        return effective_settings(user)


class CurrentUserUpdateSerializer(serializers.Serializer):
    """`PATCH /api/users/me/`: only the notification settings are the caller's to change here."""

    notification_settings = serializers.JSONField(
        help_text="{kind: true|false}; kinds not named keep their current value."
    )

    def validate(self, attrs):
        for key in self.initial_data:
            if key not in self.fields:
                raise serializers.ValidationError({key: ["Not changeable here; only notification_settings is."]})
        return attrs


class UserWriteSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    full_name = optional_text(max_length=200)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, allow_null=True)
    cuid = optional_text(max_length=255)


class RoleSerializer(serializers.ModelSerializer):
    scope_type = serializers.CharField(read_only=True)

    class Meta:
        list_serializer_class = ReadListSerializer
        model = Role
        fields = ("uuid", "name", "description", "scope_type")
        read_only_fields = fields


class RoleGrantSerializer(serializers.ModelSerializer):
    """One row of `list_users`."""

    user = UrlField("user-detail", source="user.uuid")
    user_uuid = serializers.UUIDField(source="user.uuid")
    user_username = serializers.CharField(source="user.username")
    user_full_name = serializers.CharField(source="user.full_name")
    user_email = serializers.CharField(source="user.email")
    role = serializers.CharField(source="role.name")
    role_name = serializers.CharField(source="role.name")
    role_uuid = serializers.UUIDField(source="role.uuid")
    # Who granted the role, when the requester may see them (User.objects.visible_to); otherwise null.
    created_by_uuid = VisibleUserUuidField(source="created_by")
    created_by_full_name = VisibleUserFullNameField(source="created_by")

    class Meta:
        list_serializer_class = ReadListSerializer
        model = RoleGrant
        fields = (
            "uuid",
            "user",
            "user_uuid",
            "user_username",
            "user_full_name",
            "user_email",
            "role",
            "role_name",
            "role_uuid",
            "expiration_time",
            "created",
            "created_by_uuid",
            "created_by_full_name",
        )
        read_only_fields = fields


class MembershipSerializer(serializers.Serializer):
    """Payload of add_user / delete_user / update_user: user (uuid or URL), role (name or uuid)."""

    user = serializers.CharField(max_length=500)
    role = serializers.CharField(max_length=100)
    expiration_time = serializers.DateTimeField(required=False, allow_null=True)

    def validate_user(self, value):
        key = parse_uuid(value)
        user = User.objects.filter(uuid=key).first() if key else None
        if user is None:
            raise serializers.ValidationError("User with this UUID does not exist.")
        return user

    def validate_role(self, value):
        key = parse_uuid(value)
        role = Role.objects.filter(uuid=key).first() if key else Role.objects.filter(name=value).first()
        if role is None:
            names = ", ".join(Role.objects.values_list("name", flat=True))
            raise serializers.ValidationError(f"Unknown role {value!r}; use a role uuid or one of {names}.")
        return role


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class PasswordLoginSerializer(serializers.Serializer):
    # Bounded before anything else sees them: a username is at most what the model holds.
    username = serializers.CharField(max_length=User._meta.get_field("username").max_length)
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False, max_length=4096)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class AuthTokenSerializer(serializers.ModelSerializer):
    """One of the caller's API tokens; the key itself is never shown (only its first characters)."""

    is_current = serializers.SerializerMethodField(help_text="Whether this request was made with this token.")

    class Meta:
        list_serializer_class = ReadListSerializer
        model = AuthToken
        fields = ["uuid", "prefix", "created", "expires_at", "last_used", "is_current"]
        read_only_fields = fields

    def get_is_current(self, token) -> bool:
        request = self.context.get("request")
        return isinstance(getattr(request, "auth", None), AuthToken) and request.auth.id == token.id


class RemoteUserSerializer(serializers.Serializer):
    cuid = serializers.CharField(max_length=255)


class RemoteUserResponseSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
