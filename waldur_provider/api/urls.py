from django.urls import path, re_path

from . import agents, offering_users, usages, views


def register(router):
    """Add the provider side of Waldur's API (what waldur-site-agent calls) to the API router."""
    router.register(
        "marketplace-provider-offerings", views.ProviderOfferingViewSet, basename="marketplace-provider-offering"
    )
    router.register(
        "marketplace-service-providers", views.ServiceProviderViewSet, basename="marketplace-service-provider"
    )
    router.register(
        "marketplace-provider-resources", views.ProviderResourceViewSet, basename="marketplace-provider-resource"
    )
    router.register(
        "marketplace-offering-users", offering_users.OfferingUserViewSet, basename="marketplace-offering-user"
    )
    router.register(
        "marketplace-component-user-usages",
        usages.ComponentUserUsageViewSet,
        basename="marketplace-component-user-usage",
    )
    router.register(
        "component-user-usage-limits",
        views.ComponentUserUsageLimitViewSet,
        basename="component-user-usage-limit",
    )
    router.register(
        "marketplace-site-agent-identities", agents.AgentIdentityViewSet, basename="marketplace-site-agent-identity"
    )
    router.register(
        "marketplace-site-agent-services", agents.AgentServiceViewSet, basename="marketplace-site-agent-service"
    )


urlpatterns = [
    path("api/version/", views.VersionView.as_view(), name="waldur-version"),
    # Write actions beside accounting's read-only `marketplace-component-usages` (matched before it).
    path(
        "api/marketplace-component-usages/set_usage/",
        usages.SetUsageView.as_view(),
        name="marketplace-component-usage-set-usage",
    ),
    re_path(
        r"^api/marketplace-component-usages/(?P<uuid>[0-9a-fA-F-]{32,36})/set_user_usages/$",
        usages.SetUserUsagesView.as_view(),
        name="marketplace-component-usage-set-user-usages",
    ),
]
