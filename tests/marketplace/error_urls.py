"""The project's URLs plus two views that fail, to see what an uncaught error answers (with DEBUG off)."""

from django.urls import path

from config.urls import handler404, handler500, urlpatterns


def fail(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", fail), path("api/broken/", fail), *urlpatterns]
__all__ = ["handler404", "handler500", "urlpatterns"]
