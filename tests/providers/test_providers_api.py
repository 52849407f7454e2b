"""`/api/providers/`: who sees which provider, registration, and a fixed query count."""

import pytest

from federation.models import RoleName
from protocol.keys import generate_private_key, jwks, public_jwk
from providers.models import Provider
from tests.factories import UserFactory, grant, make_provider

pytestmark = pytest.mark.django_db


def test_staff_see_all_owners_see_theirs_others_none(api, staff, outsider):
    first = make_provider("site-one").provider
    make_provider("site-two")
    owner = UserFactory(username="site-one-owner")
    grant(owner, first.customer, RoleName.CUSTOMER_OWNER)
    assert [p["slug"] for p in api.as_user(staff).get("/api/providers/").json()] == ["site-one", "site-two"]
    assert [p["slug"] for p in api.as_user(owner).get("/api/providers/").json()] == ["site-one"]
    assert api.as_user(outsider).get("/api/providers/").json() == []
    assert api.as_user(outsider).get("/api/providers/site-one/").status_code == 404


def test_registration_by_staff_validates_the_keys(api, staff, customer, django_capture_on_commit_callbacks):
    body = {
        "slug": "new-site", "domain": "agent.example.org", "customer": f"http://testserver/api/customers/{customer.uuid}/",
        "jwks": {"keys": []},
    }  # fmt: skip
    refused = api.as_user(staff).post("/api/providers/", body, format="json")
    assert refused.status_code == 400 and "jwks" in refused.json()
    body["jwks"] = jwks(public_jwk(generate_private_key(), "new-site-1"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # the manifest pull is queued after commit
        created = api.as_user(staff).post("/api/providers/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["base_url"] == "https://agent.example.org" and len(callbacks) == 1
    assert api.as_user(staff).post("/api/providers/", body, format="json").status_code == 400  # slug taken


def test_only_staff_register(api, owner, support, customer):
    body = {"slug": "x", "domain": "x.org", "customer": str(customer.uuid),
            "jwks": jwks(public_jwk(generate_private_key(), "x-1"))}  # fmt: skip
    assert api.as_user(owner).post("/api/providers/", body, format="json").status_code == 403
    assert api.as_user(support).post("/api/providers/", body, format="json").status_code == 403
    assert not Provider.objects.filter(slug="x").exists()


@pytest.mark.parametrize("page_size", [2, 10])
def test_query_count_does_not_grow_with_page_size(api, staff, django_assert_num_queries, page_size):
    for i in range(8):
        make_provider(f"site-{i}")
    client = api.as_user(staff)
    with django_assert_num_queries(4):  # token + count + page + the page's endpoints
        answer = client.get("/api/providers/", {"page_size": page_size})
    assert len(answer.json()) == min(page_size, 8)
