from django.contrib.admin.apps import AdminConfig


class FederationAdminConfig(AdminConfig):
    """django.contrib.admin with our site (config.admin.FederationAdminSite) as the default `admin.site`."""

    default_site = "config.admin.FederationAdminSite"
