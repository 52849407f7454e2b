"""Real threads on PostgreSQL: orders racing for the last of a share; the share's row lock lets one through.

Marked `postgresql`: on any other database these tests are skipped with the reason.
"""

import pytest

from common.exceptions import Conflict
from marketplace import services
from marketplace.models import Order, Resource
from tests.concurrency import race
from tests.factories import ProjectFactory

pytestmark = pytest.mark.postgresql

N = 6


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_orders_for_the_last_of_a_project_share_give_one_success(
    customer_share, project_share, project, place
):
    project_share(customer_share(1000), project, 100)
    results, errors = race(lambda i: place(project, 100, name=f"Race {i}"), range(N))
    assert len(results) == 1, errors
    assert len(errors) == N - 1 and all(isinstance(e, Conflict) for e in errors), errors
    assert all("Only 0 k-hours" in e.message for e in errors)
    assert Order.objects.count() == 1 and Resource.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_orders_of_two_projects_for_the_last_of_the_customer_share_give_one_success(
    customer, customer_share, place
):
    customer_share(150)
    projects = [ProjectFactory(customer=customer) for _ in range(N)]
    results, errors = race(lambda p: place(p, 100, name=f"Race {p.id}"), projects)
    assert len(results) == 1, errors
    assert all(isinstance(e, Conflict) and "Only 50 k-hours" in e.message for e in errors), errors
    assert Resource.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_raises_of_two_resources_share_the_last_of_a_share(
    customer_share, project_share, project, running
):
    project_share(customer_share(1000), project, 300)
    resources = [running(project, 100, name=f"R{i}") for i in range(2)]
    results, errors = race(
        lambda r: services.resource_update_limits(resource=r, actor=None, limits={"cpu_k_hours": 200}), resources
    )
    assert len(results) == 1, errors
    assert len(errors) == 1 and isinstance(errors[0], Conflict) and "Only 100 k-hours" in errors[0].message
