"""The root URLs: every app's routes, listed here plainly.

The REST routes of all apps share one router, so /api/ lists everything in one place.
"""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

import accounting.api.urls
import apel.api.urls
import events.api.urls
import marketplace.api.urls
import providers.api.urls
import waldur_provider.api.urls
import webhooks.api.urls
from accounting.api.summaries import UsageSummaryViewSet
from common.login_security import throttle_login_attempts
from federation import oidc
from federation.api import views
from portal import urls as portal_urls
from providers.api import provider_urls

router = DefaultRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("users", views.UserViewSet, basename="user")
router.register("roles", views.RoleViewSet, basename="role")
router.register("tokens", views.AuthTokenViewSet, basename="token")
marketplace.api.urls.register(router)
accounting.api.urls.register(router)
providers.api.urls.register(router)
apel.api.urls.register(router)
events.api.urls.register(router)
webhooks.api.urls.register(router)
waldur_provider.api.urls.register(router)

urlpatterns = [
    path("api-auth/password/", views.PasswordLoginView.as_view(), name="auth-password"),
    path("api-auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("api/remote-eduteams/", views.RemoteEduteamsView.as_view(), name="remote-eduteams"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script from a URL, so the page needs no inline script (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="swagger-ui",
    ),
    # A resource's usage summary as its sub-resource (accounting sits above the marketplace's viewsets).
    path(
        "api/marketplace-resources/<uuid:uuid>/usage-summary/",
        UsageSummaryViewSet.as_view({"get": "retrieve"}),
        name="marketplace-resource-usage-summary",
    ),
    # The provider-facing API (provider → federation: order updates, usage, connections, our keys). Its
    # exact paths come before the router's hundreds of patterns, which every batch would otherwise try first.
    path("", include(provider_urls)),
    # Where Waldur serves its version; waldur-site-agent logs it at start-up.
    path("", include(waldur_provider.api.urls.urlpatterns)),
    path("api/", include(router.urls)),
    # The admin's login counts against the same per-address login rate as the API's and the portal's.
    path("admin/login/", throttle_login_attempts(admin.site.login)),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's, say).
    path("favicon.ico", RedirectView.as_view(url=static("federation/favicon.svg"), permanent=True)),
    path("oidc/", include(oidc.urlpatterns_when_enabled())),
    # APEL accounting messages in (signed by the provider) and out (staff).
    path("", include(apel.api.urls.urlpatterns)),
    # The portal: projects, catalogue, resources and orders, server-rendered.
    path("", include(portal_urls)),
]
# Unmatched URLs under /api/ answer JSON, as the API's own 404s do.
handler404 = "common.api.exceptions.not_found"
# PermissionDenied outside the API's views: JSON under /api/, the portal's 403 page elsewhere.
handler403 = "common.api.exceptions.forbidden"
# Uncaught errors: JSON under /api/, the portal's 500 page (rendered without a request) elsewhere.
handler500 = "common.api.exceptions.server_error"
