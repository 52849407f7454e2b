"""The kinds of mail a person can turn off, and how their choices are read and checked.

A user's `notification_settings` holds `{kind: bool}`; a kind it does not name takes the kind's
default. The notifications app decides which events make which kind of mail; this catalogue is
what the person sees (portal settings page, `GET/PATCH /api/users/me/`).
"""

from __future__ import annotations

from dataclasses import dataclass

from common.exceptions import ValidationFailed

FIELD = "notification_settings"


@dataclass(frozen=True)
class NotificationKind:
    name: str
    label: str
    description: str
    default: bool = True
    staff_only: bool = False


NOTIFICATION_KINDS: dict[str, NotificationKind] = {
    kind.name: kind
    for kind in (
        NotificationKind(
            "approvals",
            "Orders waiting for my approval",
            "An order for a project you manage or own, or for an offering your organisation provides, waits for "
            "your approval.",
        ),
        NotificationKind(
            "order_outcomes",
            "Outcome of my orders",
            "An order you placed is done, erred or was rejected (with the reason).",
        ),
        NotificationKind(
            "membership",
            "My memberships",
            "You were added to or removed from a project or an organisation, or your role there expired.",
        ),
        NotificationKind(
            "ending",
            "Projects and resources ending",
            "A project you manage, or one of its resources, is about to reach its end date, or has reached it.",
        ),
        NotificationKind(
            "usage",
            "Usage thresholds and low balance",
            "A resource's usage crossed a threshold set for it, or its balance runs low.",
        ),
        NotificationKind(
            "staff_copy",
            "A copy of every notification (staff)",
            "Staff only: a copy of each notification sent to anyone, marked as a copy.",
            default=False,
            staff_only=True,
        ),
    )
}


def kinds_for(user) -> list[NotificationKind]:
    """The kinds `user` may choose: every kind, the staff-only ones for staff."""
    return [kind for kind in NOTIFICATION_KINDS.values() if not kind.staff_only or user.is_staff]


def wants(user, kind: str) -> bool:
    """Whether `user` gets mail of `kind` (a staff-only kind never reaches anyone else)."""
    spec = NOTIFICATION_KINDS[kind]
    if spec.staff_only and not user.is_staff:
        return False
    return bool((user.notification_settings or {}).get(kind, spec.default))


def effective_settings(user) -> dict[str, bool]:
    """Every kind the user may choose, with the value in force (their choice or the default)."""
    return {kind.name: wants(user, kind.name) for kind in kinds_for(user)}


def check_settings(user, changes) -> dict[str, bool]:
    """`changes` as `{kind: bool}`, or ValidationFailed naming the offending key."""
    if not isinstance(changes, dict):
        raise ValidationFailed("Expected an object {kind: true|false}.", field=FIELD)
    allowed = {kind.name for kind in kinds_for(user)}
    for key, value in changes.items():
        if key not in allowed:
            if key in NOTIFICATION_KINDS:
                raise ValidationFailed(f"Only staff may choose {key!r}.", field=(FIELD, key))
            raise ValidationFailed(
                f"Unknown kind of notification {key!r}; use one of {', '.join(sorted(allowed))}.", field=(FIELD, key)
            )
        if not isinstance(value, bool):
            raise ValidationFailed("Expected true or false.", field=(FIELD, key))
    return dict(changes)
