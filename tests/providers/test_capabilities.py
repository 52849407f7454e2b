"""What a provider's manifest does not enable cannot be activated, shown or ordered."""

import dataclasses

import pytest

from common.exceptions import ValidationFailed
from federation.models import RoleName
from marketplace import services as marketplace
from marketplace.models import Offering
from providers.models import Provider
from providers.processor import ManifestCapabilities
from tests.factories import UserFactory, grant, make_provider

MANIFEST = {
    "features": {
        "compute": {
            "virtualMachine": {"enabled": True, "vnc": False, "web": True},
            "docker": {"enabled": False, "logs": True},
        },
        "storage": {"enabled": True, "shares": True},
    },
    "components": ["cpu"],
}


@pytest.mark.parametrize(
    "path, enabled",
    [
        ("compute.virtualMachine", True),
        ("compute.virtualMachine.web", True),
        ("compute.virtualMachine.vnc", False),
        ("compute.docker", False),
        ("compute.docker.logs", False),  # a sub-feature of a disabled feature is off
        ("storage.shares", True),
        ("storage.projects", False),  # missing means off
        ("blockDevices", False),
        ("ipAddresses.enabled", False),
    ],
)
def test_manifest_features_are_opt_in(path, enabled):
    assert ManifestCapabilities(MANIFEST).feature_enabled(path) is enabled


def test_component_accounting_comes_from_the_manifest():
    caps = ManifestCapabilities(MANIFEST)
    assert caps.accounts_for("cpu") and not caps.accounts_for("gpu")
    assert not ManifestCapabilities({}).accounts_for("cpu")


@dataclasses.dataclass(frozen=True)
class Draft:
    """A provider's draft offering with options, and an owner of the providing organisation."""

    provider: Provider
    offering: Offering
    owner: object


@pytest.fixture
def draft(db) -> Draft:
    site = make_provider("site-caps")
    provider, offering = site.provider, site.offering
    Offering.objects.filter(id=offering.id).update(
        state="Draft",
        options={
            "order": ["image", "console"],
            "options": {
                "image": {"type": "string"},
                "console": {"type": "boolean", "default": False, "requires_feature": "compute.virtualMachine.vnc"},
            },
        },
    )
    owner = UserFactory(username="caps-owner")
    grant(owner, offering.customer, RoleName.CUSTOMER_OWNER)
    offering.refresh_from_db()
    return Draft(provider=provider, offering=offering, owner=owner)


def test_activation_needs_the_components_and_features_in_the_manifest(draft):
    with pytest.raises(ValidationFailed) as refused:
        marketplace.offering_change_state(actor=draft.owner, offering=draft.offering, action="activate")
    assert refused.value.field == "components" and "cpu" in refused.value.message

    Provider.objects.filter(id=draft.provider.id).update(manifest=MANIFEST)
    with pytest.raises(ValidationFailed) as refused:
        marketplace.offering_change_state(actor=draft.owner, offering=draft.offering, action="activate")
    assert refused.value.field == "options" and "console needs compute.virtualMachine.vnc" in refused.value.message
    draft.offering.refresh_from_db()
    assert draft.offering.state == "Draft"

    manifest = {**MANIFEST, "features": {"compute": {"virtualMachine": {"enabled": True, "vnc": True}}}}
    Provider.objects.filter(id=draft.provider.id).update(manifest=manifest)
    assert (
        marketplace.offering_change_state(actor=draft.owner, offering=draft.offering, action="activate").state
        == "Active"
    )


def test_activation_over_the_api_is_a_400_naming_the_field(api, draft):
    answer = api.as_user(draft.owner).post(f"/api/marketplace-offerings/{draft.offering.uuid}/activate/")
    assert answer.status_code == 400
    assert "components" in answer.json()


def test_options_needing_a_disabled_feature_are_hidden_and_refused(api, draft, ordering_manager):
    Provider.objects.filter(id=draft.provider.id).update(manifest=MANIFEST)
    Offering.objects.filter(id=draft.offering.id).update(state="Active")

    shown = (
        api.as_user(ordering_manager.user).get(f"/api/marketplace-offerings/{draft.offering.uuid}/").json()["options"]
    )
    assert list(shown["options"]) == ["image"] and shown["order"] == ["image"]

    payload = {
        "project": f"http://testserver/api/projects/{ordering_manager.project.uuid}/",
        "offering": f"http://testserver/api/marketplace-offerings/{draft.offering.uuid}/",
        "plan": f"http://testserver/api/marketplace-plans/{draft.offering.plans.first().uuid}/",
        "attributes": {"name": "vm", "console": True},
        "limits": {"cpu": 5},
    }
    refused = api.post("/api/marketplace-orders/", payload, format="json")
    assert refused.status_code == 400
    assert "console: needs compute.virtualMachine.vnc" in refused.json()["attributes"]["console"][0]

    payload["attributes"] = {"name": "vm", "image": "debian"}
    accepted = api.post("/api/marketplace-orders/", payload, format="json")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["attributes"] == {"name": "vm", "image": "debian"}  # no default for a hidden option
