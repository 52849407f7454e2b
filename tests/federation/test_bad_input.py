"""Bad input is a 400 naming the field (or a 409 for a wrong state) and changes nothing, never a 500.

Bodies nested past the bound (also on the unauthenticated login), bodies past the size bound,
texts past their columns, a customer still referred to by offerings or providers, unknown API URLs.
"""

import json

import pytest

from common.validation import JSON_MAX_DEPTH
from federation.models import AuthToken, Customer, Project, User
from marketplace.models import Offering
from providers.models import Provider
from tests.factories import OfferingFactory, ProviderFactory

LOGIN = "/api-auth/password/"
CUSTOMERS = "/api/customers/"
DEEP = "[" * 5000


def rows():
    return (Customer.objects.count(), Project.objects.count(), User.objects.count(), AuthToken.objects.count())


def post_raw(client, url, body, content_type="application/json"):
    return client.post(url, body, content_type=content_type)


@pytest.mark.parametrize("body", [DEEP, '{"a": ' * 5000, '{"username": ' + "[" * 2000 + "]" * 2000 + "}"])
def test_deeply_nested_json_on_the_unauthenticated_login_is_a_400(api, staff, body):
    before = rows()
    response = post_raw(api, LOGIN, body)
    assert response.status_code == 400, response.content[:300]
    assert "nested deeper than" in response.json()["detail"]
    assert rows() == before


def test_nesting_within_the_stack_but_past_the_bound_is_refused_too(api, staff):
    body = json.dumps({"name": "Deep", "contact_details": "x", "extra": json.loads("[" * 40 + "]" * 40)})
    client = api.as_user(staff)
    before = rows()
    response = post_raw(client, CUSTOMERS, body)
    assert response.status_code == 400
    assert f"nested deeper than {JSON_MAX_DEPTH} levels" in response.json()["detail"]
    assert rows() == before


def test_nesting_at_the_bound_is_accepted(api, staff):
    """The bound refuses only what is deeper than JSON_MAX_DEPTH; the body itself is level one."""
    nested = "[" * (JSON_MAX_DEPTH - 1) + "]" * (JSON_MAX_DEPTH - 1)
    response = post_raw(api.as_user(staff), CUSTOMERS, json.dumps({"name": "Shallow", "extra": json.loads(nested)}))
    assert response.status_code == 201, response.content[:300]


def test_deep_json_in_an_authenticated_write_is_a_400(api, staff):
    client = api.as_user(staff)
    before = rows()
    response = post_raw(client, CUSTOMERS, DEEP)
    assert response.status_code == 400 and "nested deeper than" in response.json()["detail"]
    assert rows() == before


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_bodies_past_the_size_bound_are_refused(api, staff, settings, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "x" * 20_000}) if content_type == "application/json" else "name=" + "x" * 20_000
    client = api.as_user(staff)
    before = rows()
    response = post_raw(client, CUSTOMERS, body, content_type)
    assert response.status_code == 413
    assert "larger than 10000 bytes" in response.json()["detail"]
    assert rows() == before


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("contact_details", "x" * 1001, "no more than 1000"),
        ("email", "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".org", "no more than 254"),
        ("name", "a\u0000b", "Null characters are not allowed"),
    ],
)
def test_customer_texts_are_bounded(api, staff, customer, field, value, fragment):
    before = list(Customer.objects.values_list("id", field))
    response = api.as_user(staff).patch(f"{CUSTOMERS}{customer.uuid}/", {field: value}, format="json")
    assert response.status_code == 400
    assert fragment in str(response.json()[field]), response.json()
    assert list(Customer.objects.values_list("id", field)) == before


def test_project_description_is_bounded(api, owner, project):
    response = api.as_user(owner).patch(f"/api/projects/{project.uuid}/", {"description": "x" * 2001}, format="json")
    assert response.status_code == 400 and "no more than 2000" in str(response.json()["description"])
    project.refresh_from_db()
    assert project.description == ""


def test_user_email_past_its_column(api, staff):
    client = api.as_user(staff)
    before = rows()
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".org"
    response = client.post("/api/users/", {"username": "long-mail", "email": email}, format="json")
    assert response.status_code == 400 and "email" in response.json()
    assert rows() == before


@pytest.mark.parametrize("field", ["user", "role"])
def test_membership_references_are_bounded(api, owner, project, field):
    body = {"user": "x", "role": "PROJECT.MEMBER", field: "y" * 501}
    response = api.as_user(owner).post(f"/api/projects/{project.uuid}/add_user/", body, format="json")
    assert response.status_code == 400 and "no more than" in str(response.json()[field])


def test_customer_with_an_offering_but_no_project_is_a_409(api, staff, customer):
    OfferingFactory(customer=customer)
    response = api.as_user(staff).delete(f"{CUSTOMERS}{customer.uuid}/")
    assert response.status_code == 409
    assert "still has offerings" in response.json()["detail"]
    assert Customer.objects.filter(pk=customer.pk).exists() and Offering.objects.filter(customer=customer).exists()


def test_customer_with_a_provider_but_no_project_is_a_409(api, staff, customer):
    ProviderFactory(slug="site", name="Site", domain="site.example.org", customer=customer)
    response = api.as_user(staff).delete(f"{CUSTOMERS}{customer.uuid}/")
    assert response.status_code == 409
    assert "still has providers" in response.json()["detail"]
    assert Customer.objects.filter(pk=customer.pk).exists() and Provider.objects.filter(customer=customer).exists()


def test_customer_with_nothing_left_is_deleted(api, staff, customer):
    assert api.as_user(staff).delete(f"{CUSTOMERS}{customer.uuid}/").status_code == 204
    assert not Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.parametrize("path", ["/api/customers/not-a-uuid/", "/api/no-such-thing/", "/api-auth/nothing/"])
def test_unknown_api_urls_answer_json(api, staff, path):
    response = api.as_user(staff).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json() == {"detail": "Not found."}


def test_unknown_portal_urls_keep_the_page(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
