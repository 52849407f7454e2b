from django.urls import path

from . import provider_views as views

urlpatterns = [
    path(".well-known/jwks.json", views.jwks_view, name="jwks"),
    path("api/provider/orders/updates/", views.OrderUpdatesView.as_view(), name="provider-order-updates"),
    path("api/provider/usage/", views.UsagePushView.as_view(), name="provider-usage"),
    path("api/provider/connections/", views.ConnectionConfirmView.as_view(), name="provider-connections"),
]
