from django.contrib.auth import views as auth_views
from django.urls import path

from federation.login_security import throttle_login_attempts

from . import views

urlpatterns = [
    path("", views.home, name="portal-home"),
    path("projects/<uuid:uuid>/", views.project_detail, name="portal-project"),
    path("login/", throttle_login_attempts(auth_views.LoginView.as_view()), name="portal-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="portal-logout"),
]
