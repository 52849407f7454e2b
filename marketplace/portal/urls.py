from django.urls import path

from . import views

urlpatterns = [
    path("catalogue/", views.offering_list, name="portal-offerings"),
    path("catalogue/<uuid:uuid>/", views.offering_detail, name="portal-offering"),
    path("resources/", views.resource_list, name="portal-resources"),
    path("resources/<uuid:uuid>/", views.resource_detail, name="portal-resource"),
    path("resources/<uuid:uuid>/limits/", views.resource_update_limits, name="portal-resource-limits"),
    path("resources/<uuid:uuid>/terminate/", views.resource_terminate, name="portal-resource-terminate"),
    path("orders/", views.order_list, name="portal-orders"),
    path("orders/<uuid:uuid>/", views.order_detail, name="portal-order"),
    path("orders/<uuid:uuid>/cancel/", views.order_cancel, name="portal-order-cancel"),
]
