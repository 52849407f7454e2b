"""/api/customers/: create, read, update, delete, filters."""

import uuid

import pytest

from federation.models import Customer
from tests.factories import CustomerFactory, ProjectFactory

URL = "/api/customers/"


def detail(customer) -> str:
    return f"{URL}{customer.uuid}/"


def test_staff_creates_a_customer_201(api, staff):
    response = api.as_user(staff).post(
        URL,
        {"name": "Uni of Tartu", "abbreviation": "UT", "email": "it@ut.ee", "unknown_field": 1},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    customer = Customer.objects.get(uuid=body["uuid"])
    assert body["url"] == f"http://testserver{detail(customer)}"
    assert body["name"] == "Uni of Tartu"
    assert body["abbreviation"] == "UT"
    assert body["slug"] == "uni-of-tartu"


def test_create_accepts_null_for_optional_fields(api, staff):
    payload = {
        "name": "Nulls Inc",
        "native_name": None,
        "abbreviation": None,
        "contact_details": None,
        "email": None,
        "phone_number": None,
        "backend_id": None,
    }
    response = api.as_user(staff).post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["abbreviation"] == ""
    assert response.json()["email"] == ""


def test_create_without_name_is_400_naming_it(api, staff):
    response = api.as_user(staff).post(URL, {"abbreviation": "X"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_create_with_blank_name_is_400(api, staff):
    response = api.as_user(staff).post(URL, {"name": "   "}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_create_with_bad_email_is_400(api, staff):
    response = api.as_user(staff).post(URL, {"name": "X", "email": "not-an-email"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()


def test_slugs_stay_unique(api, staff):
    client = api.as_user(staff)
    first = client.post(URL, {"name": "Same"}, format="json").json()
    second = client.post(URL, {"name": "Same"}, format="json").json()
    assert (first["slug"], second["slug"]) == ("same", "same-2")


def test_retrieve(api, staff, customer):
    response = api.as_user(staff).get(detail(customer))
    assert response.status_code == 200
    assert response.json()["uuid"] == str(customer.uuid)
    assert response.json()["name"] == "Acme University"


def test_unknown_uuid_is_404(api, staff):
    assert api.as_user(staff).get(f"{URL}{uuid.uuid4()}/").status_code == 404


def test_put_and_patch(api, staff, customer):
    client = api.as_user(staff)
    response = client.patch(detail(customer), {"native_name": "Acme Ülikool", "whatever": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["native_name"] == "Acme Ülikool"
    assert response.json()["name"] == "Acme University"
    response = client.put(detail(customer), {"name": "Acme", "abbreviation": None}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.abbreviation, customer.native_name) == ("Acme", "", "Acme Ülikool")


def test_patch_with_blank_name_is_400(api, staff, customer):
    response = api.as_user(staff).patch(detail(customer), {"name": ""}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_staff_deletes_an_empty_customer(api, staff):
    customer = CustomerFactory()
    assert api.as_user(staff).delete(detail(customer)).status_code == 204
    assert not Customer.objects.filter(id=customer.id).exists()


def test_deleting_a_customer_with_projects_is_409(api, staff, project):
    response = api.as_user(staff).delete(detail(project.customer))
    assert response.status_code == 409
    assert "projects" in response.json()["detail"]


# --- filters -----------------------------------------------------------------------------------


@pytest.fixture
def customers(db):
    return {
        "acme": CustomerFactory(name="Acme University", abbreviation="ACME", backend_id="b-1", native_name="Akme"),
        "beta": CustomerFactory(name="Beta Institute", abbreviation="BETA", email="info@beta.org"),
        "acme2": CustomerFactory(name="Acme", abbreviation="AC2"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"name": "acme"}, ["acme2", "acme"]),
        ({"name_exact": "Acme"}, ["acme2"]),
        ({"native_name": "akm"}, ["acme"]),
        ({"abbreviation": "bet"}, ["beta"]),
        ({"backend_id": "b-1"}, ["acme"]),
        ({"backend_id": "b"}, []),
        ({"email": "beta"}, ["beta"]),
        ({"o": "-name"}, ["beta", "acme", "acme2"]),
        ({"o": "abbreviation"}, ["acme2", "acme", "beta"]),
    ],
)
def test_filters(api, staff, customers, query, expected):
    response = api.as_user(staff).get(URL, query)
    assert response.status_code == 200
    names = {str(c.uuid): key for key, c in customers.items()}
    assert [names[c["uuid"]] for c in response.json()] == expected


@pytest.mark.parametrize("query", [{"o": "password"}, {"o": "nonsense"}])
def test_invalid_filter_values_are_400(api, staff, customers, query):
    response = api.as_user(staff).get(URL, query)
    assert response.status_code == 400
    assert "o" in response.json()


def test_customer_visible_through_a_project_role(api, member, project):
    """A project member sees the project's customer, and no other."""
    CustomerFactory()
    ProjectFactory()
    response = api.as_user(member).get(URL)
    assert [c["uuid"] for c in response.json()] == [str(project.customer.uuid)]
