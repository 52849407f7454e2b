"""A hint, kept in the session, for how the marketplace asks for the rows someone sees.

At sign-in the portal notes whether the person owns an organisation that provides offerings; on each
request it tells the marketplace's visibility (`marketplace.models.managers.signed_in_without_offerings`)
when they did not, and their orders and resources are then fetched by id from index lookups rather than
by reading every row. The hint never changes which rows are visible, only the SQL: someone who became a
provider's owner since signing in sees the same rows, read in the form that is slower for them.
"""

from django.contrib.auth import SESSION_KEY as USER_SESSION_KEY
from django.contrib.auth import user_logged_in

from marketplace.models.managers import owns_offerings, signed_in_without_offerings

SESSION_KEY = "portal_owns_offerings"


def remember_at_sign_in(sender, request, user, **kwargs):
    """user_logged_in receiver: one query, at a session's sign-in only (django.contrib.auth's login() has put
    the user in the session). A sign-in for an API token sends the signal too; its session stays untouched,
    so that it is neither saved nor sent as a cookie."""
    session = getattr(request, "session", None)
    if session is not None and session.session_key and session.get(USER_SESSION_KEY) == str(user.pk):
        session[SESSION_KEY] = owns_offerings(user)


def row_hints(get_response):
    """Middleware (after the session's): sets the hint for the request from the session. A request without
    a session cookie (the API's, with a token) leaves its session unread."""

    def middleware(request):
        session = getattr(request, "session", None)
        hint = None
        if session is not None and session.session_key and session.get(SESSION_KEY) is False:
            user_id = session.get(USER_SESSION_KEY)
            hint = None if user_id is None else str(user_id)
        token = signed_in_without_offerings.set(hint)
        try:
            return get_response(request)
        finally:
            signed_in_without_offerings.reset(token)

    return middleware


user_logged_in.connect(remember_at_sign_in, dispatch_uid="portal.row_hints.remember_at_sign_in")
