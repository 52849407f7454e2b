from .views import ComponentUsageViewSet


def register(router):
    router.register("marketplace-component-usages", ComponentUsageViewSet, basename="marketplace-component-usage")
