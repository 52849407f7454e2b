"""What every portal page's template may use."""

from functools import partial

from django.conf import settings

from portal.queues import may_see_queues


def portal(request):
    # Asked only when a template asks (an error page need not load the user).
    return {"oidc_enabled": settings.OIDC_ENABLED, "may_see_queues": partial(may_see_queues, request.user)}
