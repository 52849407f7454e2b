from django.contrib.auth import views as auth_views
from django.urls import path

from common.login_security import throttle_login_attempts

from .views import account, connections, exports, marketplace, staff, structure

urlpatterns = [
    path("", structure.home, name="portal-home"),
    path("projects/<uuid:uuid>/", structure.project_detail, name="portal-project"),
    path("projects/<uuid:uuid>/members/add/", structure.project_member_add, name="portal-project-member-add"),
    path(
        "projects/<uuid:uuid>/members/<uuid:grant_uuid>/remove/",
        structure.project_member_remove,
        name="portal-project-member-remove",
    ),
    path("login/", throttle_login_attempts(auth_views.LoginView.as_view()), name="portal-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="portal-logout"),
    path("catalogue/", marketplace.offering_list, name="portal-offerings"),
    path("catalogue/<uuid:uuid>/", marketplace.offering_detail, name="portal-offering"),
    path("resources/", marketplace.resource_list, name="portal-resources"),
    path("resources/csv/", exports.resource_list_csv, name="portal-resources-csv"),
    path("resources/<uuid:uuid>/", marketplace.resource_detail, name="portal-resource"),
    path("resources/<uuid:uuid>/limits/", marketplace.resource_update_limits, name="portal-resource-limits"),
    path("resources/<uuid:uuid>/terminate/", marketplace.resource_terminate, name="portal-resource-terminate"),
    path("orders/", marketplace.order_list, name="portal-orders"),
    path("orders/csv/", exports.order_list_csv, name="portal-orders-csv"),
    path("orders/<uuid:uuid>/", marketplace.order_detail, name="portal-order"),
    path("orders/<uuid:uuid>/cancel/", marketplace.order_cancel, name="portal-order-cancel"),
    path("orders/<uuid:uuid>/review/", marketplace.order_review, name="portal-order-review"),
    path("settings/notifications/", account.notification_settings, name="portal-notification-settings"),
    path("accounts/providers/", connections.provider_accounts_page, name="portal-provider-accounts"),
    path("queues/", staff.queues, name="portal-queues"),
    path("accounts/providers/<slug:slug>/connect/", connections.provider_connect, name="portal-provider-connect"),
]
