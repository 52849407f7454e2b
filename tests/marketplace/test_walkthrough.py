"""docs/marketplace.md, "Allocator walk-through": the same HTTP calls, in order, against a live server."""

import pytest
import requests

from federation.models import RoleName
from tests.factories import UserFactory, catalogue_offering, grant

PASSWORD = "secret-pass-123"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_allocator_walkthrough(live_server, customer, provider, provider_owner):
    allocator = UserFactory(username="allocator", is_identity_manager=True)  # neither staff nor support
    grant(allocator, customer, RoleName.CUSTOMER_OWNER)
    researcher = UserFactory(username="researcher", cuid="abc123@myaccessid.org")
    catalogue_offering(customer=provider, name="HPC allocation", terms_of_service="Acknowledge the centre.")
    api = live_server.url
    http = requests.Session()

    def call(method, url, token, **kwargs):
        response = http.request(method, url, headers={"Authorization": f"Token {token}"}, timeout=30, **kwargs)
        assert response.status_code in (200, 201), (url, response.status_code, response.text)
        return response.json()

    # 0. Log in.
    token = http.post(f"{api}/api-auth/password/", json={"username": "allocator", "password": PASSWORD}).json()["token"]
    provider_token = http.post(
        f"{api}/api-auth/password/", json={"username": "provider-owner", "password": PASSWORD}
    ).json()["token"]

    # 1. Create a project.
    project_url = call(
        "POST",
        f"{api}/api/projects/",
        token,
        json={
            "customer": f"{api}/api/customers/{customer.uuid}/",
            "name": "Climate models",
            "end_date": "2031-12-31",
            "oecd_fos_2007_code": "1.5",
        },
    )["url"]

    # 2. Add a member, found by community identity.
    user_uuid = call("POST", f"{api}/api/remote-eduteams/", token, json={"cuid": "abc123@myaccessid.org"})["uuid"]
    assert user_uuid == str(researcher.uuid)
    call("POST", f"{project_url}add_user/", token, json={"user": user_uuid, "role": "PROJECT.MEMBER"})

    # 3. List offerings and pick one and its plan.
    offerings = call("GET", f"{api}/api/marketplace-offerings/?state=Active&name_exact=HPC%20allocation", token)
    offering_url, plan_url = offerings[0]["url"], offerings[0]["plans"][0]["url"]

    # 4. Order.
    order = call(
        "POST",
        f"{api}/api/marketplace-orders/",
        token,
        json={
            "project": project_url,
            "offering": offering_url,
            "plan": plan_url,
            "attributes": {"name": "climate-cpu"},
            "limits": {"cpu_k_hours": 100, "storage_tb": 2},
            "accepting_terms_of_service": True,
        },
    )
    order_uuid, resource_uuid = order["uuid"], order["marketplace_resource_uuid"]
    assert order["state"] == "pending-provider"

    # 5. Approve (the provider).
    approved = call("POST", f"{api}/api/marketplace-orders/{order_uuid}/approve_by_provider/", provider_token)
    assert approved["state"] == "executing"

    # 6. Mark done as provider.
    call(
        "POST",
        f"{api}/api/marketplace-orders/{order_uuid}/set_state_done/",
        provider_token,
        json={"backend_id": "hpc_climate_cpu"},
    )
    resource = call("GET", f"{api}/api/marketplace-resources/{resource_uuid}/", token)
    assert (resource["state"], resource["backend_id"]) == ("OK", "hpc_climate_cpu")

    # 7. Update limits.
    update_uuid = call(
        "POST",
        f"{api}/api/marketplace-resources/{resource_uuid}/update_limits/",
        token,
        json={"limits": {"cpu_k_hours": 250}},
    )["order_uuid"]
    call("POST", f"{api}/api/marketplace-orders/{update_uuid}/approve_by_provider/", provider_token)
    call("POST", f"{api}/api/marketplace-orders/{update_uuid}/set_state_done/", provider_token)
    resource = call("GET", f"{api}/api/marketplace-resources/{resource_uuid}/", token)
    assert resource["limits"] == {"cpu_k_hours": 250, "storage_tb": 2}

    # 8. Terminate.
    terminate_uuid = call("POST", f"{api}/api/marketplace-resources/{resource_uuid}/terminate/", token)["order_uuid"]
    call("POST", f"{api}/api/marketplace-orders/{terminate_uuid}/approve_by_provider/", provider_token)
    call("POST", f"{api}/api/marketplace-orders/{terminate_uuid}/set_state_done/", provider_token)
    resource = call("GET", f"{api}/api/marketplace-resources/{resource_uuid}/", token)
    assert resource["state"] == "Terminated"
