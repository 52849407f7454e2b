"""List pages: JSON array bodies, X-Result-Count, Link, page_size (default 10, at most 200), HEAD."""

import re

import pytest

from federation.models import Project
from tests.factories import CustomerFactory


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response["Link"])}


@pytest.fixture
def many_projects(db):
    customer = CustomerFactory(name="Bulk")
    Project.objects.bulk_create(
        Project(customer=customer, name=f"Project {i:03d}", slug=f"p-{i:03d}") for i in range(205)
    )
    return customer


def test_default_page_size_is_10(api, staff, many_projects):
    response = api.as_user(staff).get("/api/projects/")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert len(body) == 10
    assert body[0]["name"] == "Project 000"
    assert response["X-Result-Count"] == "205"


def test_link_header_on_the_first_page(api, staff, many_projects):
    response = api.as_user(staff).get("/api/projects/", {"name": "Project"})
    rels = links(response)
    assert set(rels) == {"first", "next", "last"}
    assert rels["first"] == "http://testserver/api/projects/?name=Project"
    assert rels["next"] == "http://testserver/api/projects/?name=Project&page=2"
    assert rels["last"] == "http://testserver/api/projects/?name=Project&page=21"


def test_link_header_in_the_middle_and_at_the_end(api, staff, many_projects):
    client = api.as_user(staff)
    middle = client.get("/api/projects/", {"page": 2, "page_size": 100})
    assert set(links(middle)) == {"first", "prev", "next", "last"}
    assert links(middle)["prev"] == "http://testserver/api/projects/?page_size=100"
    assert links(middle)["next"] == "http://testserver/api/projects/?page=3&page_size=100"
    last = client.get(links(middle)["last"])
    assert len(last.json()) == 5
    assert set(links(last)) == {"first", "prev", "last"}
    assert links(last)["prev"] == "http://testserver/api/projects/?page=2&page_size=100"


def test_single_page_has_first_and_last_only(api, staff, customer):
    response = api.as_user(staff).get("/api/customers/")
    assert set(links(response)) == {"first", "last"}
    assert links(response)["first"] == links(response)["last"]


def test_page_size_is_capped_at_200(api, staff, many_projects):
    response = api.as_user(staff).get("/api/projects/", {"page_size": 1000})
    assert len(response.json()) == 200
    assert response["X-Result-Count"] == "205"
    assert links(response)["last"].endswith("page=2&page_size=1000")


@pytest.mark.parametrize("size", ["0", "-5", "abc"])
def test_odd_page_sizes_fall_back_to_the_default(api, staff, many_projects, size):
    response = api.as_user(staff).get("/api/projects/", {"page_size": size})
    assert response.status_code == 200
    assert len(response.json()) == 10


def test_page_past_the_end_is_404(api, staff, many_projects):
    assert api.as_user(staff).get("/api/projects/", {"page": 99}).status_code == 404


def test_empty_list_is_an_empty_array(api, member, db):
    response = api.as_user(member).get("/api/projects/", {"name": "nothing-matches"})
    assert response.json() == []
    assert response["X-Result-Count"] == "0"


@pytest.mark.parametrize("path", ["/api/projects/", "/api/customers/", "/api/users/"])
def test_head_returns_the_count(api, staff, many_projects, path):
    response = api.as_user(staff).head(path)
    assert response.status_code == 200
    assert response.content == b""
    expected = {"/api/projects/": 205, "/api/customers/": 1, "/api/users/": 1}[path]
    assert response["X-Result-Count"] == str(expected)


def test_head_applies_filters_and_visibility(api, staff, member, many_projects):
    assert api.as_user(staff).head("/api/projects/", {"name": "Project 00"})["X-Result-Count"] == "10"
    assert api.as_user(member).head("/api/projects/")["X-Result-Count"] == "1"
    assert api.as_user(staff).head("/api/projects/", {"customer": "bad"}).status_code == 400


def test_head_anonymous_is_401(api, db):
    assert api.head("/api/projects/").status_code == 401
