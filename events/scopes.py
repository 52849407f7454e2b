"""Who may see an event: exactly who may see the object it is scoped to.

The event log does not know the domain models. Each domain app registers, in its
`AppConfig.ready()`, how to list the uuids of its objects a user may see (its own `visible_to`);
an event of scope `order` is then visible to whoever `Order.objects.visible_to` lets see the
order. There is no second rule.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, QuerySet

from common.querysets import VisibleQuerySet

VisibleUuids = Callable[..., QuerySet]
_scopes: dict[str, VisibleUuids] = {}


def register_scope(scope_type: str, visible_uuids: VisibleUuids) -> None:
    """`visible_uuids(user)` returns a queryset of the uuids of this kind of object the user may see."""
    _scopes[scope_type] = visible_uuids


def scope_visible(user, scope_type: str, scope_uuid) -> bool:
    """Whether the user may see the object (staff and support see every object that exists)."""
    visible_uuids = _scopes.get(scope_type)
    if visible_uuids is None or not user.is_authenticated:
        return False
    return visible_uuids(user).filter(uuid=scope_uuid).exists()


class EventQuerySet(VisibleQuerySet):
    def _visible_to_member(self, user):
        """Events whose scope object the user may see, by that object's own rule."""
        visible = Q(pk__in=[])
        for scope_type, visible_uuids in _scopes.items():
            visible |= Q(scope_type=scope_type, scope_uuid__in=visible_uuids(user).values("uuid"))
        return self.filter(visible)
