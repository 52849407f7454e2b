"""The catalogue API: offerings, public offering URLs, plans; who reads and who manages."""

import pytest

from marketplace.models import Offering, OfferingState
from tests.factories import OfferingFactory

OFFERINGS = "/api/marketplace-offerings/"


def new_offering(provider, **overrides):
    body = {
        "customer": f"http://testserver/api/customers/{provider.uuid}/",
        "name": "GPU cluster",
        "type": "Marketplace.Slurm",
        "terms_of_service_link": "https://example.org/terms",
        "options": {"options": {"partition": {"type": "enum", "choices": ["a100", "h100"], "required": True}}},
        "components": [
            {
                "type": "gpu_hours",
                "name": "GPU hours",
                "billing_type": "limit",
                "limit_period": "annual",
                "min_value": 1,
                "max_value": 5000,
                "default_limit": 100,
            },
            {"type": "storage_tb", "billing_type": "usage"},
        ],
        "plans": [{"name": "Basic", "unit": "month", "prices": {"gpu_hours": "1.5"}, "quotas": {"gpu_hours": 10}}],
    }
    body.update(overrides)
    return body


def test_provider_owner_creates_and_publishes_an_offering(api, provider, provider_owner, manager):
    response = api.as_user(provider_owner).post(OFFERINGS, new_offering(provider), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "Draft" and body["customer_uuid"] == str(provider.uuid)
    assert [c["type"] for c in body["components"]] == ["gpu_hours", "storage_tb"]
    assert body["plans"][0]["prices"] == {"gpu_hours": "1.500000"} and body["plans"][0]["quotas"] == {"gpu_hours": 10}
    # A draft is the provider's business only.
    assert api.as_user(manager).get(f"{OFFERINGS}{body['uuid']}/").status_code == 404
    activated = api.as_user(provider_owner).post(f"{OFFERINGS}{body['uuid']}/activate/")
    assert activated.json()["state"] == "Active"
    assert api.as_user(manager).get(f"{OFFERINGS}{body['uuid']}/").status_code == 200
    again = api.as_user(provider_owner).post(f"{OFFERINGS}{body['uuid']}/activate/")
    assert again.status_code == 409 and "it is Active" in again.json()["detail"]


def test_others_may_not_manage_offerings(api, provider, offering, owner, manager):
    assert api.as_user(owner).post(OFFERINGS, new_offering(provider), format="json").status_code in (400, 403)
    assert api.as_user(manager).patch(f"{OFFERINGS}{offering.uuid}/", {"name": "x"}, format="json").status_code == 403
    assert api.as_user(manager).post(f"{OFFERINGS}{offering.uuid}/pause/").status_code == 403
    assert Offering.objects.get(pk=offering.pk).state == OfferingState.ACTIVE


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"options": {"options": {"x": {"type": "float"}}}}, "options", "x: type must be one of"),
        ({"options": {"options": {"x": {"type": "enum"}}}}, "options", "x: an enum needs"),
        ({"options": {"options": {"x": {"type": "integer", "default": "1"}}}}, "options", "default of x"),
        ({"options": {"options": {"name": {"type": "string"}}}}, "options", "name: reserved"),
        ({"components": [{"type": "cpu", "min_value": 5, "max_value": 1}]}, "components", "min_value must not exceed"),
        ({"components": [{"type": "cpu", "max_value": 5, "default_limit": 6}]}, "components", "default_limit"),
        ({"plans": [{"name": "P", "prices": {"ram": 1}}]}, "prices", "ram: not a component"),
    ],
)
def test_offering_validation(api, provider, provider_owner, overrides, field, fragment):
    response = api.as_user(provider_owner).post(OFFERINGS, new_offering(provider, **overrides), format="json")
    assert response.status_code == 400
    assert fragment in str(response.json()[field]), response.json()
    assert not Offering.objects.filter(name="GPU cluster").exists()


def test_update_offering_and_components(api, provider_owner, offering):
    url = f"{OFFERINGS}{offering.uuid}/"
    response = api.as_user(provider_owner).patch(url, {"auto_approve": True, "description": "Fast"}, format="json")
    assert response.status_code == 200 and response.json()["auto_approve"] is True
    components = {"components": [{"type": "cpu_k_hours", "name": "CPU", "max_value": 50}, {"type": "ram_gb"}]}
    response = api.as_user(provider_owner).post(f"{url}update_components/", components, format="json")
    assert response.status_code == 200
    by_type = {c["type"]: c for c in response.json()["components"]}
    assert by_type["cpu_k_hours"]["max_value"] == 50 and "ram_gb" in by_type


def test_offering_filters(api, manager, provider, offering):
    OfferingFactory(customer=provider, name="Cloud VMs", type="OpenStack")
    OfferingFactory(name="Hidden draft", state="Draft")

    def names(query):
        response = api.as_user(manager).get(f"{OFFERINGS}?{query}")
        assert response.status_code == 200, response.json()
        return sorted(o["name"] for o in response.json())

    assert names("") == ["Cloud VMs", "HPC allocation"]
    assert names("name=hpc") == ["HPC allocation"]
    assert names("name_exact=HPC") == []
    assert names(f"customer_uuid={provider.uuid}") == ["Cloud VMs", "HPC allocation"]
    assert names(f"customer=http://testserver/api/customers/{provider.uuid}/") == ["Cloud VMs", "HPC allocation"]
    assert names("type=OpenStack") == ["Cloud VMs"]
    assert names("state=active") == ["Cloud VMs", "HPC allocation"]
    for bad in ("state=gone", "customer_uuid=x", "customer=not-a-url"):
        assert api.as_user(manager).get(f"{OFFERINGS}?{bad}").status_code == 400


def test_public_offering_urls(api, manager, offering, plan):
    base = f"/api/marketplace-public-offerings/{offering.uuid}/"
    assert api.as_user(manager).get(base).json()["uuid"] == str(offering.uuid)
    assert [p["uuid"] for p in api.as_user(manager).get(f"{base}plans/").json()] == [str(plan.uuid)]
    detail = api.as_user(manager).get(f"{base}plans/{plan.uuid}/")
    assert detail.status_code == 200 and detail.json()["name"] == "Standard"
    other = OfferingFactory()
    assert (
        api.as_user(manager).get(f"/api/marketplace-public-offerings/{other.uuid}/plans/{plan.uuid}/").status_code
        == 404
    )


def test_plans_api(api, provider_owner, manager, offering, plan):
    response = api.as_user(provider_owner).post(
        "/api/marketplace-plans/",
        {"offering": str(offering.uuid), "name": "Gold", "unit": "day", "prices": {"cpu_k_hours": "3"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    gold = response.json()
    assert gold["prices"] == {"cpu_k_hours": "3.000000"} and gold["unit"] == "day"
    assert api.as_user(manager).post(f"/api/marketplace-plans/{gold['uuid']}/archive/").status_code == 403
    archived = api.as_user(provider_owner).post(f"/api/marketplace-plans/{gold['uuid']}/archive/")
    assert archived.json()["archived"] is True
    listed = api.as_user(manager).get(f"/api/marketplace-plans/?offering_uuid={offering.uuid}&archived=false")
    assert [p["uuid"] for p in listed.json()] == [str(plan.uuid)]


def test_demo_seeder_is_idempotent(staff, customer, project):
    import io

    from marketplace.demo import seed_demo_offering

    first = seed_demo_offering(staff=staff, customer=customer, project=project, stdout=io.StringIO())
    again = seed_demo_offering(staff=staff, customer=customer, project=project, stdout=io.StringIO())
    assert first == again and again.state == OfferingState.ACTIVE
    assert sorted(again.components.values_list("type", flat=True)) == ["cpu_k_hours", "storage_tb"]
