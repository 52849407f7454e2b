from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from federation import oidc
from federation.api import views
from federation.login_security import throttle_login_attempts
from federation.portal import urls as portal_urls

router = DefaultRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("users", views.UserViewSet, basename="user")
router.register("roles", views.RoleViewSet, basename="role")
router.register("tokens", views.AuthTokenViewSet, basename="token")

# Other apps add their routes to the same router, so /api/ lists everything in one place.
for module in settings.API_ROUTE_MODULES:
    __import__(module, fromlist=["register"]).register(router)

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
    path("api/", include(router.urls)),
    # The admin's login counts against the same per-address login rate as the API's and the portal's.
    path("admin/login/", throttle_login_attempts(admin.site.login)),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's, say).
    path("favicon.ico", RedirectView.as_view(url=static("federation/favicon.svg"), permanent=True)),
    path("oidc/", include(oidc.urlpatterns_when_enabled())),
    path("", include(portal_urls)),
]
urlpatterns += [path(p, include(m)) for p, m in settings.EXTRA_URL_MODULES]
# Unmatched URLs under /api/ answer JSON, as the API's own 404s do.
handler404 = "federation.api.exceptions.not_found"
