"""Fields that show a user (a grant's creator, say) only to those who may see them."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from federation.models import User
from federation.permissions import sees_everything


def user_is_visible(request, user_id: int) -> bool:
    """Whether the requester may see this user (`User.objects.visible_to`), asked once per user and request."""
    viewer = getattr(request, "user", None)
    if viewer is None or not viewer.is_authenticated:
        return False
    if user_id == viewer.id or sees_everything(viewer):
        return True
    known = request.__dict__.setdefault("_visible_users", {})
    if user_id not in known:
        known[user_id] = User.objects.visible_to(viewer).filter(id=user_id).exists()
    return known[user_id]


class VisibleUserField(serializers.Field):
    """`attr` of the user at `source` (e.g. a grant's `created_by`), or null when the requester may not see them.

    A list queryset that annotates `<source>_visible` (a boolean, e.g. an `Exists` over
    `User.objects.visible_to(viewer)`) answers without a query per row; otherwise the answer is
    looked up once per user and request.
    """

    attr = ""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        kwargs["allow_null"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        user = super().get_attribute(instance)
        if user is None:
            return None
        visible = getattr(instance, f"{self.source_attrs[-1]}_visible", None)
        if visible is None:
            visible = user_is_visible(self.context.get("request"), user.pk)
        return getattr(user, self.attr) if visible else None

    def to_representation(self, value):
        return str(value)


@extend_schema_field(OpenApiTypes.UUID)
class VisibleUserUuidField(VisibleUserField):
    attr = "uuid"


@extend_schema_field(OpenApiTypes.STR)
class VisibleUserFullNameField(VisibleUserField):
    attr = "full_name"
