"""/api/projects/: create, read, update, delete, filters."""

import uuid

import pytest

from federation.models import Project
from tests.factories import CustomerFactory, ProjectFactory

URL = "/api/projects/"


def detail(project) -> str:
    return f"{URL}{project.uuid}/"


def customer_url(customer) -> str:
    return f"http://testserver/api/customers/{customer.uuid}/"


def test_create_201_with_related_fields(api, owner, customer):
    response = api.as_user(owner).post(
        URL,
        {
            "customer": customer_url(customer),
            "name": "Ocean currents",
            "description": "Simulations",
            "backend_id": "oc-1",
            "oecd_fos_2007_code": "1.5",
            "end_date": "2030-01-31",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    project = Project.objects.get(uuid=body["uuid"])
    assert body["url"] == f"http://testserver{detail(project)}"
    assert body["customer"] == customer_url(customer)
    assert body["customer_uuid"] == str(customer.uuid)
    assert body["customer_name"] == "Acme University"
    assert body["customer_abbreviation"] == "ACME"
    assert body["oecd_fos_2007_code"] == "1.5"
    assert body["end_date"] == "2030-01-31"
    assert body["is_active"] is True
    assert project.slug == "ocean-currents"


def test_create_accepts_a_bare_customer_uuid(api, staff, customer):
    response = api.as_user(staff).post(URL, {"customer": str(customer.uuid), "name": "P"}, format="json")
    assert response.status_code == 201


def test_create_accepts_nulls_and_ignores_unknown_fields(api, staff, customer):
    """Waldur clients send `type: null` and nulls for every unset optional field."""
    payload = {
        "customer": customer_url(customer),
        "name": "Nulls",
        "type": None,
        "description": None,
        "oecd_fos_2007_code": None,
        "end_date": None,
        "backend_id": None,
        "is_industry": False,
    }
    response = api.as_user(staff).post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["description"], body["oecd_fos_2007_code"], body["end_date"], body["backend_id"]) == ("", "", None, "")


def test_invalid_oecd_code_is_400_naming_the_field(api, staff, customer):
    response = api.as_user(staff).post(
        URL, {"customer": customer_url(customer), "name": "P", "oecd_fos_2007_code": "9.9"}, format="json"
    )
    assert response.status_code == 400
    assert "oecd_fos_2007_code" in response.json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"customer": "not-a-url", "name": "P"}, "customer"),
        ({"customer": f"http://testserver/api/customers/{uuid.UUID(int=1)}/", "name": "P"}, "customer"),
        ({"name": ""}, "name"),
        ({"end_date": "someday"}, "end_date"),
    ],
)
def test_create_bad_input_is_400_naming_the_field(api, staff, customer, payload, field):
    payload = {"customer": customer_url(customer), **payload}
    response = api.as_user(staff).post(URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_create_without_customer_is_400(api, staff):
    response = api.as_user(staff).post(URL, {"name": "P"}, format="json")
    assert response.status_code == 400
    assert "customer" in response.json()


def test_backend_id_is_unique_within_a_customer(api, staff, customer):
    client = api.as_user(staff)
    payload = {"customer": customer_url(customer), "name": "P", "backend_id": "same"}
    assert client.post(URL, payload, format="json").status_code == 201
    response = client.post(URL, payload, format="json")
    assert response.status_code == 400
    assert "backend_id" in response.json()
    other = CustomerFactory()
    assert client.post(URL, {**payload, "customer": customer_url(other)}, format="json").status_code == 201


def test_patch_and_put(api, manager, project):
    client = api.as_user(manager)
    response = client.patch(
        detail(project), {"description": None, "oecd_fos_2007_code": "6.1", "type": None}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["oecd_fos_2007_code"] == "6.1"
    response = client.put(detail(project), {"name": "Renamed", "end_date": None, "customer": "ignored"}, format="json")
    assert response.status_code == 200, response.json()
    project.refresh_from_db()
    assert (project.name, project.oecd_fos_2007_code) == ("Renamed", "6.1")


def test_update_with_invalid_oecd_code_is_400(api, staff, project):
    response = api.as_user(staff).patch(detail(project), {"oecd_fos_2007_code": "1.99"}, format="json")
    assert response.status_code == 400
    assert "oecd_fos_2007_code" in response.json()


def test_update_to_a_taken_backend_id_is_400(api, staff, project):
    ProjectFactory(customer=project.customer, backend_id="taken")
    response = api.as_user(staff).patch(detail(project), {"backend_id": "taken"}, format="json")
    assert response.status_code == 400
    assert "backend_id" in response.json()


def test_delete_204(api, owner, project):
    assert api.as_user(owner).delete(detail(project)).status_code == 204
    assert not Project.objects.filter(id=project.id).exists()


# --- filters -----------------------------------------------------------------------------------


@pytest.fixture
def projects(db):
    acme = CustomerFactory(name="Acme University", abbreviation="ACME")
    beta = CustomerFactory(name="Beta Institute", abbreviation="BETA")
    return {
        "climate": ProjectFactory(customer=acme, name="Climate models", description="Weather", backend_id="c-1"),
        "climate2": ProjectFactory(customer=beta, name="Climate", description="Ice sheets", backend_id="c-2"),
        "genome": ProjectFactory(customer=beta, name="Genome assembly", description="DNA"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"name": "clim"}, ["climate2", "climate"]),
        ({"name": "CLIMATE MODELS"}, ["climate"]),
        ({"name_exact": "Climate"}, ["climate2"]),
        ({"name_exact": "climate"}, []),
        ({"description": "sheet"}, ["climate2"]),
        ({"backend_id": "c-1"}, ["climate"]),
        ({"backend_id": "c"}, []),
        ({"customer_name": "beta"}, ["climate2", "genome"]),
        ({"abbreviation": "acm"}, ["climate"]),
        ({"o": "-name"}, ["genome", "climate", "climate2"]),
        ({"o": "customer_name,-name"}, ["climate", "genome", "climate2"]),
        ({"o": "created"}, ["climate", "climate2", "genome"]),
        ({"name": "clim", "customer_name": "acme"}, ["climate"]),
    ],
)
def test_filters(api, staff, projects, query, expected):
    response = api.as_user(staff).get(URL, query)
    assert response.status_code == 200
    names = {str(p.uuid): key for key, p in projects.items()}
    assert [names[p["uuid"]] for p in response.json()] == expected


def test_customer_filter_by_uuid(api, staff, projects):
    beta = projects["genome"].customer
    response = api.as_user(staff).get(URL, {"customer": str(beta.uuid)})
    assert sorted(p["name"] for p in response.json()) == ["Climate", "Genome assembly"]
    assert api.as_user(staff).get(URL, {"customer": str(uuid.uuid4())}).json() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [({"customer": "not-a-uuid"}, "customer"), ({"o": "secret"}, "o"), ({"o": "name,secret"}, "o")],
)
def test_invalid_filter_values_are_400(api, staff, projects, query, field):
    response = api.as_user(staff).get(URL, query)
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_query_parameters_are_ignored(api, staff, projects):
    response = api.as_user(staff).get(URL, {"field": "name", "foo": "bar"})
    assert response.status_code == 200
    assert len(response.json()) == 3


@pytest.mark.parametrize("key", ["-" * 36, "0" * 31 + "-"])
def test_malformed_uuid_in_the_path_is_404(api, staff, key):
    assert api.as_user(staff).get(f"{URL}{key}/").status_code == 404
