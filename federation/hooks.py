"""Explicit extension points filled in by other apps' AppConfig.ready().

The structure domain does not import the apps that build on it; an app that must react to a
membership change (to tell providers, say) registers a listener here. Listeners run inside the
service's transaction, so anything they write commits or rolls back with the change itself.
"""

from collections.abc import Callable

MembershipListener = Callable[..., None]
_membership_listeners: list[MembershipListener] = []


def register_membership_listener(listener: MembershipListener) -> None:
    if listener not in _membership_listeners:
        _membership_listeners.append(listener)


def membership_changed(*, grant, action: str) -> None:
    """Called by the role services with action "add" or "remove" after the grant row is written."""
    for listener in _membership_listeners:
        listener(grant=grant, action=action)
