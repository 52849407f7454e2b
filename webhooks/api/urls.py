from .views import WebhookViewSet


def register(router):
    router.register("hooks-web", WebhookViewSet, basename="webhook")
