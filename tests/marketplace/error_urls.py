"""The project's URLs plus views that fail or refuse, to see what an uncaught error or a PermissionDenied
outside the API's views answers (with DEBUG off)."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from config.urls import handler403, handler404, handler500, urlpatterns


def fail(request):
    raise RuntimeError("a bug")


def refuse(request):
    raise PermissionDenied("Only the site's operators may open this.")


urlpatterns = [
    path("broken/", fail),
    path("api/broken/", fail),
    path("forbidden/", refuse),
    path("api/forbidden/", refuse),
    *urlpatterns,
]
__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
