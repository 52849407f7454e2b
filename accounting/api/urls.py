from . import invoices, policies, reports, shares, summaries
from .views import ComponentUsageViewSet


def register(router):
    router.register("marketplace-component-usages", ComponentUsageViewSet, basename="marketplace-component-usage")
    invoices.register(router)
    summaries.register(router)
    reports.register(router)
    shares.register(router)
    policies.register(router)
