"""The person's own settings in the portal: which kinds of mail they get.

The same service as `PATCH /api/users/me/` writes the choice.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from common.exceptions import DomainError
from federation import services
from portal.forms import NotificationSettingsForm


@login_required
def notification_settings(request):
    form = NotificationSettingsForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_notification_settings(user=request.user, changes=form.changes())
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, "Notification settings saved.")
            return redirect("portal-notification-settings")
    return render(request, "portal/notification_settings.html", {"form": form})
