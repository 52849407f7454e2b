"""Accounts at providers: per provider the person's projects use, whether their account there is connected
and under which local username; "Connect" starts the provider protocol's connection procedure.

Connecting: the portal asks the provider (`providers.services.connection_request`, with the address of this
page to come back to), and sends the browser to the page the provider answers with. There the person proves
who they are locally; the provider confirms the local username to us, signed, and sends the browser back
here. The hop to the provider is a page of ours that forwards at once: the portal's Content-Security-Policy
lets forms post only to ourselves, which a redirect answering the form would break.
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from common.exceptions import DomainError
from providers import services
from providers.selectors import provider_accounts, providers_connectable_by


def _page(request, *, problem=None, status=200):
    providers = provider_accounts(request.user)
    returned = request.GET.get("connected")
    context = {
        "providers": providers,
        "returned": next((p for p in providers if p.slug == returned), None) if returned else None,
        "problem": problem,  # (provider slug, message) of a connection that could not start
    }
    return render(request, "portal/provider_accounts.html", context, status=status)


@login_required
def provider_accounts_page(request):
    return _page(request)


@login_required
@require_POST
def provider_connect(request, slug):
    provider = providers_connectable_by(request.user).filter(slug=slug).first()
    if provider is None:
        raise Http404
    back = request.build_absolute_uri(reverse("portal-provider-accounts")) + "?" + urlencode({"connected": slug})
    try:
        connection = services.connection_request(user=request.user, provider=provider, return_url=back)
    except DomainError as exc:
        return _page(request, problem=(slug, exc.message), status=exc.status_code)
    if not connection.redirect_url.startswith(("https://", "http://")):
        problem = (slug, f"{provider.name} did not say where to confirm your account; try again later.")
        return _page(request, problem=problem, status=502)
    return render(request, "portal/provider_connect.html", {"provider": provider, "url": connection.redirect_url})
