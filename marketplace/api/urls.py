from . import views


def register(router):
    """Add the marketplace's routes to the API router."""
    router.register("marketplace-offerings", views.OfferingViewSet, basename="marketplace-offering")
    router.register("marketplace-public-offerings", views.PublicOfferingViewSet, basename="marketplace-public-offering")
    router.register("marketplace-plans", views.PlanViewSet, basename="marketplace-plan")
    router.register("marketplace-orders", views.OrderViewSet, basename="marketplace-order")
    router.register("marketplace-resources", views.ResourceViewSet, basename="marketplace-resource")
    router.register("marketplace-state-changes", views.StateChangeViewSet, basename="marketplace-state-change")
