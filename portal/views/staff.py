"""Pages for those who look after the whole federation: the queues of what waits on someone."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from portal.queues import may_see_queues, staff_queues


@login_required
def queues(request):
    if not may_see_queues(request.user):
        raise PermissionDenied("The queues are for staff and support.")
    return render(request, "portal/queues.html", {"queues": staff_queues(request.user)})
