"""Explicit extension points filled in by other apps' AppConfig.ready().

The structure domain does not import the apps that build on it; an app that must react to a
membership change (to tell providers, say) registers a listener here. Listeners run inside the
service's transaction, so anything they write commits or rolls back with the change itself.

An app whose objects name people (orders name who placed and reviewed them) registers a user
visibility rule here, so that the one rule of who may see whom (`User.objects.visible_to`) covers
the people its objects show.
"""

from collections.abc import Callable

from django.db.models import Q

MembershipListener = Callable[..., None]
_membership_listeners: list[MembershipListener] = []
UserVisibilityRule = Callable[..., Q]
_user_visibility_rules: list[UserVisibilityRule] = []


def register_user_visibility(rule: UserVisibilityRule) -> None:
    """`rule(viewer)` returns a Q over users that a viewer (neither staff nor support) may also see."""
    if rule not in _user_visibility_rules:
        _user_visibility_rules.append(rule)


def user_visibility_rules() -> tuple[UserVisibilityRule, ...]:
    return tuple(_user_visibility_rules)


def register_membership_listener(listener: MembershipListener) -> None:
    if listener not in _membership_listeners:
        _membership_listeners.append(listener)


def membership_changed(*, grant, action: str) -> None:
    """Called by the role services with action "add" or "remove" after the grant row is written."""
    for listener in _membership_listeners:
        listener(grant=grant, action=action)
