"""The portal's structure pages: the dashboard (what needs attention, then the projects one sees), and a
project with its members and resources.

Server-rendered over the same selectors and filter sets as the API.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from federation.filters import ProjectFilter
from federation.models import Project
from federation.selectors import role_grants_visible_to
from marketplace import selectors as marketplace_selectors
from portal.selectors import needs_attention


@login_required
def home(request):
    projects = ProjectFilter(
        request.GET, queryset=Project.objects.visible_to(request.user).select_related("customer"), request=request
    )
    page = Paginator(projects.qs if projects.is_valid() else Project.objects.none(), 25).get_page(
        request.GET.get("page")
    )
    context = {"filter": projects, "page": page, "attention": needs_attention(request.user)}
    return render(request, "portal/home.html", context)


@login_required
def project_detail(request, uuid):
    project = get_object_or_404(Project.objects.visible_to(request.user).select_related("customer"), uuid=uuid)
    context = {
        "project": project,
        "members": role_grants_visible_to(request.user, scope=project),
        "resources": marketplace_selectors.project_resources(user=request.user, project=project),
    }
    return render(request, "portal/project_detail.html", context)
