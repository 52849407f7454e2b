"""The admin site under the product's name (installed in place of django.contrib.admin, see config.apps).

Support staff reach every model from the index page and the breadcrumbs, so the left-hand model list
is off: change lists get the whole width at 1280 px.
"""

from django.contrib.admin import AdminSite


class FederationAdminSite(AdminSite):
    site_header = "Federation orchestrator"
    site_title = "Federation orchestrator admin"
    index_title = "Support"
    enable_nav_sidebar = False
