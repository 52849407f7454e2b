from .views import EventViewSet


def register(router):
    router.register("events", EventViewSet, basename="event")
