from django.core.exceptions import ObjectDoesNotExist

from common.exceptions import Conflict
from protocol.messages import PAUSE_FEATURE

from .selectors import provider_for_offering
from .services import outbox_add_order, outbox_add_pause


class ManifestCapabilities:
    """Reads a provider manifest; everything is opt-in, so whatever is missing is off."""

    def __init__(self, manifest: dict):
        self.manifest = manifest if isinstance(manifest, dict) else {}

    def feature_enabled(self, path: str) -> bool:
        node = self.manifest.get("features", {})
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            if isinstance(node, dict) and node.get("enabled") is False:
                return False
            node = node[part]
        if isinstance(node, dict):
            return node.get("enabled") is True
        return node is True

    def accounts_for(self, component_type: str) -> bool:
        components = self.manifest.get("components", [])
        return isinstance(components, list) and component_type in components


class ProviderProcessor:
    """Hands executing orders of provider-run offerings to the outbox; others stay manual."""

    def submit(self, order) -> None:
        provider = provider_for_offering(order.offering)
        if provider is not None:
            outbox_add_order(provider=provider, order=order)

    def pause(self, resource, paused: bool, reason: str = "") -> None:
        """Queue the pause or resume for the provider; refused (409) when its manifest cannot pause."""
        provider = provider_for_offering(resource.offering)
        if provider is None:
            return
        if not ManifestCapabilities(provider.manifest).feature_enabled(PAUSE_FEATURE):
            raise Conflict(
                f"The provider {provider.name} cannot pause resources: its manifest does not offer {PAUSE_FEATURE}."
            )
        outbox_add_pause(provider=provider, resource=resource, paused=paused, reason=reason)

    def capabilities(self, offering) -> ManifestCapabilities | None:
        """The manifest of the offering's provider (None for offerings no provider runs)."""
        try:
            link = offering.provider_link
        except ObjectDoesNotExist:
            return None
        return ManifestCapabilities(link.provider.manifest)
