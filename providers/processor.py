from .outbox import outbox_add_order, provider_for_offering


class ProviderProcessor:
    """Hands executing orders of provider-run offerings to the outbox; others stay manual."""

    def submit(self, order) -> None:
        provider = provider_for_offering(order.offering)
        if provider is not None:
            outbox_add_order(provider=provider, order=order)
