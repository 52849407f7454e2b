"""The resource page before its figures: why the resource is in error (the provider's own words, with the
order that erred), the change under way (the limits asked beside the current ones), and access: the
account at the provider and the person's own username there when their account is connected."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from marketplace import services
from marketplace.models import OrderState
from providers.models import UserConnection
from tests.factories import ProviderFactory, ProviderOfferingFactory

pytestmark = pytest.mark.django_db


def page(user, resource) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("portal-resource", args=[resource.uuid]))
    assert response.status_code == 200
    return response.content.decode()


def words(markup: str) -> str:
    """The words a reader sees, one space apart."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split()).replace(" ,", ",").replace("( ", "(")


def page_text(user, resource) -> str:
    return words(page(user, resource))


def box(user, resource, box_id) -> str:
    """The markup of the element with `box_id` (a <div>), or "" when the page has none."""
    found = re.search(rf'<div[^>]*id="{box_id}".*?</div>', page(user, resource), re.S)
    return found.group(0) if found else ""


def test_an_erred_resource_says_what_the_provider_reported(manager, order_in):
    order = order_in(OrderState.ERRED)  # the provider answered "boom"
    error = box(manager, order.resource, "error")
    assert words(error).startswith("In error: boom (create order of ")
    assert f'href="{reverse("portal-order", args=[order.uuid])}"' in error


def test_a_resource_in_order_says_nothing_of_errors(manager, ok_resource):
    assert box(manager, ok_resource, "error") == box(manager, ok_resource, "pending") == ""


def test_a_pending_update_shows_the_limits_asked_beside_the_current_ones(manager, project_admin, offering, ok_resource):
    order = services.resource_update_limits(
        resource=ok_resource, actor=project_admin, limits={"cpu_k_hours": 250, "storage_tb": 2}
    )
    pending = box(manager, ok_resource, "pending")
    assert words(pending).startswith("Under way: new limits, Pending consumer")
    cpu = offering.components.get(type="cpu_k_hours")
    assert words(pending).endswith(f"{cpu.name}: 100 {cpu.measured_unit} → 250 {cpu.measured_unit}")
    assert "TB →" not in words(pending)  # storage is not changing
    assert f'href="{reverse("portal-order", args=[order.uuid])}"' in pending


def test_a_termination_under_way_is_shown(manager, ok_resource):
    services.resource_terminate(resource=ok_resource, actor=manager)
    assert words(box(manager, ok_resource, "pending")).startswith("Under way: termination, Pending provider")


def test_access_names_the_account_and_the_persons_username_at_the_provider(manager, offering, ok_resource):
    site = ProviderFactory(slug="nordic", name="Nordic Supercomputing Centre")
    ProviderOfferingFactory(offering=offering, provider=site)
    text = page_text(manager, ok_resource)
    assert "Account at the provider backend-1" in text
    assert "not connected to Nordic Supercomputing Centre yet" in text
    UserConnection.objects.create(user=manager, provider=site, state="pending", username="")
    UserConnection.objects.create(user=manager, provider=site, state="connected", username="mgr042")
    assert "Your username there mgr042" in page_text(manager, ok_resource)


def test_access_without_a_provider_says_access_is_set_up_by_hand(manager, ok_resource):
    assert "HPC Centre sets up access by hand" in page_text(manager, ok_resource)


# Session, user, the resource, its components, the usage (summaries and months), the orders, the state
# history, the permission look-ups, and one for the provider with the person's connection there.
RESOURCE_PAGE_QUERIES = 10


@pytest.mark.parametrize("updates", [0, 6])
def test_the_page_costs_the_same_queries_whatever_the_orders(
    manager, project_admin, ok_resource, django_assert_num_queries, updates
):
    for amount in range(updates):
        order = services.resource_update_limits(
            resource=ok_resource, actor=project_admin, limits={"cpu_k_hours": 101 + amount, "storage_tb": 2}
        )
        services.order_cancel(order=order, actor=None)
    client = Client()
    client.force_login(manager)
    url = reverse("portal-resource", args=[ok_resource.uuid])
    with django_assert_num_queries(RESOURCE_PAGE_QUERIES):
        assert client.get(url).status_code == 200
