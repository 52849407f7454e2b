from rest_framework.throttling import SimpleRateThrottle

from common.login_security import client_ip


class LoginThrottle(SimpleRateThrottle):
    """Login attempts per client address (LOGIN_THROTTLE_RATE), at the API's, the portal's and the admin's login."""

    scope = "login"

    def get_ident(self, request):
        return client_ip(request)

    def get_cache_key(self, request, view):
        # Counted whoever is signed in: a session does not buy more password guesses.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
