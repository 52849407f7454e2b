"""Login protection shared by the API's password login, the portal's and the admin's.

Two rules, the same at the three doors:

- Failed logins are counted per (username, client address) by django-axes. After
  LOGIN_FAILURE_LIMIT failures within LOGIN_FAILURE_WINDOW seconds that pair is locked out until
  the window has passed since its last counted failure; tries during the lockout are refused and
  not counted, so retrying does not extend it. A stranger guessing at a known account locks out only
  their own address: the owner, elsewhere, can still log in.
- Every login attempt (a POST to a login door) counts against a rate per client address
  (LOGIN_THROTTLE_RATE), whatever the username, so one address cannot try many accounts quickly.

`client_ip` is the one place that decides a request's client address.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

LOCKED_OUT_MESSAGE = "Too many failed login attempts for this username from this address; try again later."
THROTTLED_MESSAGE = "Too many login attempts from this address; try again later."


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent `request`.

    The socket peer (REMOTE_ADDR), unless TRUSTED_PROXY_COUNT reverse proxies stand in front of the
    web process: each of them appends the address it received the request from to
    X-Forwarded-For, so the client is the entry that many places from the right. Entries further
    left were written by the client and are never believed; a request carrying fewer entries than
    there are proxies, or an entry that is not an IP address, falls back to REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote


# --- django-axes hooks (named in settings.AXES_*) ------------------------------------------------


def failure_limit(request, credentials=None) -> int:
    return settings.LOGIN_FAILURE_LIMIT


def cooloff_time(request=None) -> timedelta:
    return timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def lockout_seconds_left(request, credentials: dict | None = None) -> int:
    """Seconds until the (username, address) of this attempt may try again; 0 when it is not locked.

    The lockout lifts when the failures still inside the window drop below the limit, that is when
    the limit-th most recent counted failure leaves the window.
    """
    from axes.handlers.database import AxesDatabaseHandler
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.update_request(request)
    limit = failure_limit(request, credentials)
    window = cooloff_time(request)
    now = timezone.now()
    longest = 0.0
    for attempts in AxesDatabaseHandler().get_user_attempts(request, credentials):
        counted = 0
        for attempt_time, failures in attempts.order_by("-attempt_time").values_list(
            "attempt_time", "failures_since_start"
        ):
            counted += failures
            if counted >= limit:
                longest = max(longest, (attempt_time + window - now).total_seconds())
                break
    return max(0, math.ceil(longest))


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """The answer to a locked-out login at the portal or the admin (AXES_LOCKOUT_CALLABLE)."""
    seconds = max(1, lockout_seconds_left(request, credentials or getattr(request, "axes_credentials", None)))
    return _refusal(request, LOCKED_OUT_MESSAGE, seconds)


def _refusal(request, message: str, retry_after: int) -> HttpResponse:
    if request.path.startswith("/api"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        context = {"message": message, "retry_after": retry_after, "minutes": math.ceil(retry_after / 60)}
        response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


# --- the per-address rate on the portal's and the admin's login pages ---------------------------


def throttle_login_attempts(view):
    """Count each POST to `view` against the login rate of the client address (as the API's login does)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            from common.api.throttling import LoginThrottle

            throttle = LoginThrottle()
            if not throttle.allow_request(request, None):
                return _refusal(request, THROTTLED_MESSAGE, max(1, math.ceil(throttle.wait() or 1)))
        return view(request, *args, **kwargs)

    return wrapped
