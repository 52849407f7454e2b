from .views import ProviderViewSet


def register(router):
    router.register("providers", ProviderViewSet, basename="provider")
