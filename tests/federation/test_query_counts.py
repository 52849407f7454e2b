"""Each list endpoint runs a fixed number of SQL queries, whatever the page size.

The numbers are pinned: a serializer field that queries per row, or a lost select_related,
makes these fail loudly. Every request costs one query for the token (with its user).
"""

import pytest

from federation.models import Customer, Project, Role, RoleGrant, RoleName, User
from tests.factories import grant

ROWS = 60


@pytest.fixture
def world(db, customer, project, member):
    """Enough customers, projects, users and grants that page sizes 5 and 50 both fill a page."""
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {i:02d}", slug=f"bulk-{i:02d}", abbreviation=f"B{i}") for i in range(ROWS)
    )
    Project.objects.bulk_create(
        Project(customer=customers[i % 5] if i % 2 else customer, name=f"P {i:02d}", slug=f"p-{i:02d}")
        for i in range(ROWS)
    )
    users = User.objects.bulk_create(
        User(username=f"person{i:02d}", full_name=f"Person {i}", email=f"p{i}@example.org") for i in range(ROWS)
    )
    roles = {role.name: role for role in Role.objects.all()}
    RoleGrant.objects.bulk_create(
        RoleGrant(user=user, role=roles[RoleName.PROJECT_ADMIN if i % 3 else RoleName.PROJECT_MEMBER],
                  project=project, created_by=member)
        for i, user in enumerate(users)
    )  # fmt: skip
    RoleGrant.objects.bulk_create(
        RoleGrant(user=user, role=roles[RoleName.CUSTOMER_SUPPORT], customer=customer if i % 2 else customers[i],
                  created_by=member)
        for i, user in enumerate(users)
    )  # fmt: skip
    # The member also sees the customer's projects and twenty other customers.
    grant(member, customer, RoleName.CUSTOMER_OWNER)
    for other in customers[:20]:
        grant(member, other, RoleName.CUSTOMER_SUPPORT)


# (path, queries for staff, queries for a plain member). The member's visibility filter is part
# of the same count and page queries, as subqueries.
ENDPOINTS = [
    pytest.param("/api/customers/", 3, 3, id="customers"),
    pytest.param("/api/projects/", 3, 3, id="projects"),
    pytest.param("/api/users/", 3, 3, id="users"),
    pytest.param("/api/projects/{project}/list_users/", 4, 4, id="project-list_users"),
    pytest.param("/api/customers/{customer}/list_users/", 4, 4, id="customer-list_users"),
    pytest.param("/api/roles/", 2, 2, id="roles"),
]


@pytest.mark.parametrize("who", ["staff", "member"])
@pytest.mark.parametrize("page_size", [5, 50])
@pytest.mark.parametrize(("path", "staff_queries", "member_queries"), ENDPOINTS)
def test_list_query_count(
    api, request, world, project, customer, django_assert_num_queries, who, page_size, path, staff_queries,
    member_queries
):  # fmt: skip
    client = api.as_user(request.getfixturevalue(who))
    url = path.format(project=project.uuid, customer=customer.uuid)
    expected = staff_queries if who == "staff" else member_queries
    with django_assert_num_queries(expected):
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200
    if path != "/api/roles/":
        assert len(response.json()) == min(page_size, int(response["X-Result-Count"]))
        assert int(response["X-Result-Count"]) > 5


@pytest.mark.parametrize("path", ["/api/projects/", "/api/customers/"])
def test_detail_query_count(api, staff, world, project, customer, django_assert_num_queries, path):
    client = api.as_user(staff)
    uuid = project.uuid if "projects" in path else customer.uuid
    with django_assert_num_queries(2):
        assert client.get(f"{path}{uuid}/").status_code == 200
