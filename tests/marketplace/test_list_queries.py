"""Every list endpoint runs a fixed number of queries, whatever the page size."""

import pytest

from marketplace import services
from marketplace.models import OrderState
from tests.factories import catalogue_offering

# endpoint → queries for one page: 1 token lookup, 1 count, 1 page, then one per prefetched relation.
PINNED = {
    "/api/marketplace-offerings/": 6,
    "/api/marketplace-public-offerings/": 6,
    "/api/marketplace-plans/": 4,
    "/api/marketplace-orders/": 3,
    "/api/marketplace-resources/": 3,
    "/api/marketplace-state-changes/": 3,
}


@pytest.fixture
def populated(provider, manager, owner, order_in, offering):
    for _ in range(5):
        catalogue_offering(customer=provider)
    for state in (OrderState.DONE, OrderState.ERRED, OrderState.EXECUTING, OrderState.REJECTED, OrderState.DONE):
        order_in(state)
    services.resource_update_limits(
        resource=order_in(OrderState.DONE).resource, actor=manager, limits={"cpu_k_hours": 999}
    )


@pytest.mark.parametrize("endpoint", list(PINNED))
@pytest.mark.parametrize("user", ["manager", "provider_owner", "staff"])
def test_list_query_count_is_pinned(api, request, django_assert_num_queries, populated, endpoint, user):
    client = api.as_user(request.getfixturevalue(user))
    for page_size in (2, 10):
        with django_assert_num_queries(PINNED[endpoint]):
            response = client.get(endpoint, {"page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()) == min(page_size, int(response["X-Result-Count"]))
        assert int(response["X-Result-Count"]) > 2


def test_head_counts(api, manager, populated):
    response = api.as_user(manager).head("/api/marketplace-orders/")
    assert response.status_code == 200 and int(response["X-Result-Count"]) == 7
