"""The portal's structure pages: the dashboard (what needs attention, then the projects one sees), and a
project with its members and resources, where managers and owners add and remove members.

Server-rendered over the same selectors and filter sets as the API.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from common.exceptions import DomainError
from federation import identity, services
from federation.filters import ProjectFilter
from federation.models import Project, Role
from federation.permissions import grantable_roles
from federation.selectors import role_grants_visible_to
from marketplace import selectors as marketplace_selectors
from portal.forms import MemberAddForm
from portal.selectors import needs_attention
from portal.templatetags.portal_format import role_label


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


def _project_or_404(request, uuid) -> Project:
    return get_object_or_404(Project.objects.visible_to(request.user).select_related("customer"), uuid=uuid)


def _project_page(request, project, *, roles, member_form=None, team_error=None, status=200):
    """The project page; `roles` are those the viewer may grant here (asked once), which drive the controls."""
    context = {
        "project": project,
        "members": role_grants_visible_to(request.user, scope=project, scope_seen=True),
        "grantable": roles,
        "member_form": member_form or (MemberAddForm(roles=roles) if roles else None),
        "team_error": team_error,
        "resources": marketplace_selectors.project_resources(user=request.user, project=project),
    }
    return render(request, "portal/project_detail.html", context, status=status)


@login_required
def project_detail(request, uuid):
    project = _project_or_404(request, uuid)
    return _project_page(request, project, roles=grantable_roles(request.user, scope=project))


@login_required
@require_POST
def project_member_add(request, uuid):
    project = _project_or_404(request, uuid)
    roles = grantable_roles(request.user, scope=project)
    if not roles:
        raise PermissionDenied("You may not add members here.")
    form = MemberAddForm(request.POST, roles=roles)
    if form.is_valid():
        try:
            user = identity.user_for_membership(
                actor=request.user, scope=project, identifier=form.cleaned_data["identifier"]
            )
            role = Role.objects.get(name=form.cleaned_data["role"])
            services.role_grant(
                actor=request.user, scope=project, user=user, role=role, expiration_time=form.expiration_time()
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, f"{user} added as {role_label(role.name).lower()}.")
            return redirect("portal-project", uuid=project.uuid)
    return _project_page(request, project, roles=roles, member_form=form, status=400)


@login_required
@require_POST
def project_member_remove(request, uuid, grant_uuid):
    project = _project_or_404(request, uuid)
    grant = get_object_or_404(role_grants_visible_to(request.user, scope=project, scope_seen=True), uuid=grant_uuid)
    try:
        services.role_revoke(actor=request.user, scope=project, user=grant.user, role=grant.role)
    except DomainError as exc:
        roles = grantable_roles(request.user, scope=project)
        return _project_page(request, project, roles=roles, team_error=exc.message, status=exc.status_code)
    messages.success(request, f"{grant.user} removed ({role_label(grant.role.name).lower()}).")
    return redirect("portal-project", uuid=project.uuid)
