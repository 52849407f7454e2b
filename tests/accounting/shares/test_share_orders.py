"""Orders draw from shares: a create order or `update_limits` beyond what is left is a 409 that says how much
is left, in the component's unit; offerings and projects without shares are unrestricted."""

from decimal import Decimal

import pytest

from accounting.shares.services import share_update
from common.exceptions import Conflict
from marketplace import services
from marketplace.models import Order, OrderState, Resource
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

D = Decimal


def test_without_any_share_orders_are_unrestricted(place, project):
    assert place(project, 1000).limits["cpu_k_hours"] == 1000


def test_a_create_order_beyond_the_project_share_is_refused_with_what_is_left(
    customer_share, project_share, project, running, place
):
    project_share(customer_share(1000), project, 300)
    running(project, 260)
    before = (Order.objects.count(), Resource.objects.count())
    with pytest.raises(Conflict) as refusal:
        place(project, 41)
    assert refusal.value.path == ("limits", "cpu_k_hours")
    assert "Only 40 k-hours of cpu_k_hours is left of project" in refusal.value.message
    assert "41 k-hours asked" in refusal.value.message
    assert (Order.objects.count(), Resource.objects.count()) == before  # a refused order changes nothing
    assert place(project, 40, name="Last").limits["cpu_k_hours"] == 40


def test_a_project_without_a_share_draws_from_the_customer_share(customer_share, project_share, customer, place):
    root = customer_share(1000)
    project_share(root, ProjectFactory(customer=customer), 700)
    other = ProjectFactory(customer=customer)
    place(other, 200)
    with pytest.raises(Conflict) as refusal:
        place(other, 101, name="More")
    assert "Only 100 k-hours of cpu_k_hours is left of the customer's share" in refusal.value.message


def test_pending_orders_count_against_the_share(customer_share, project_share, project, place):
    project_share(customer_share(1000), project, 100)
    place(project, 100)  # still pending the provider; its resource is creating
    with pytest.raises(Conflict, match="Only 0 k-hours"):
        place(project, 1, name="Second")


def test_a_terminated_resource_gives_its_limit_back(customer_share, project_share, project, running, place):
    project_share(customer_share(1000), project, 100)
    resource = running(project, 100)
    order = services.resource_terminate(resource=resource, actor=None)
    if order.state == OrderState.PENDING_PROVIDER:
        order = services.order_approve_by_provider(order=order, actor=None)
    services.order_set_state_done(order=order, actor=None)
    assert place(project, 100, name="Again").limits["cpu_k_hours"] == 100


def test_update_limits_beyond_the_share_is_refused_and_a_decrease_always_passes(
    customer_share, project_share, project, running
):
    project_share(customer_share(1000), project, 300)
    resource = running(project, 200)
    with pytest.raises(Conflict) as refusal:
        services.resource_update_limits(resource=resource, actor=None, limits={"cpu_k_hours": 301})
    assert "Only 300 k-hours of cpu_k_hours is left" in refusal.value.message  # its own 200 counted back
    assert not Order.objects.filter(resource=resource, type="Update").exists()
    order = services.resource_update_limits(resource=resource, actor=None, limits={"cpu_k_hours": 300})
    assert order.limits["cpu_k_hours"] == 300


def test_a_decrease_passes_even_when_the_share_was_cut_below_the_limits(
    customer_share, project_share, project, running
):
    child = project_share(customer_share(1000), project, 300)
    resource = running(project, 300)
    share_update(actor=None, share=child, amount=D(100))
    order = services.resource_update_limits(resource=resource, actor=None, limits={"cpu_k_hours": 250})
    assert order.limits["cpu_k_hours"] == 250


def test_an_open_update_order_holds_its_higher_limit(customer_share, project_share, project, running, place):
    project_share(customer_share(1000), project, 300)
    resource = running(project, 100)
    services.resource_update_limits(resource=resource, actor=None, limits={"cpu_k_hours": 250})  # not yet done
    with pytest.raises(Conflict, match="Only 50 k-hours"):
        place(project, 51, name="Second")


def test_usage_at_the_root_caps_every_project(
    settings, customer, customer_share, project_share, running, report_usage, place
):
    settings.SHARE_OVERALLOCATION_FACTOR = D(2)
    root = customer_share(1000)
    busy, idle = ProjectFactory(customer=customer), ProjectFactory(customer=customer)
    project_share(root, busy, 900)
    project_share(root, idle, 900)
    report_usage(running(busy, 100), 950)
    with pytest.raises(Conflict) as refusal:
        place(idle, 51)
    assert "Only 50 k-hours" in refusal.value.message


@pytest.mark.parametrize(
    ("start", "end"),
    [(1, 300), (-300, -1)],
    ids=["not yet started", "ended"],
)
def test_a_share_outside_its_dates_allows_nothing_new(customer_share, project, place, start, end):
    customer_share(1000, start=start, end=end)
    with pytest.raises(Conflict) as refusal:
        place(project, 1)
    assert "0 k-hours left" in refusal.value.message


def test_a_project_share_outside_its_dates_allows_nothing_new(customer_share, project_share, project, place):
    project_share(customer_share(1000), project, 500, start=10)
    with pytest.raises(Conflict, match="Only 0 k-hours of cpu_k_hours is left of project"):
        place(project, 1)


def test_only_the_customer_and_component_with_a_share_are_restricted(customer_share, project, place):
    customer_share(10, of=ProjectFactory().customer)  # another customer's share of cpu_k_hours
    customer_share(0, component="storage_tb")  # this customer's share of storage only, and nothing in it
    with pytest.raises(Conflict) as refusal:
        place(project, 1000)  # cpu_k_hours unrestricted, storage_tb 1 > 0 left
    assert refusal.value.path == ("limits", "storage_tb")


# --- through the API: the 409 body says how much is left ----------------------------------------


def test_the_api_answers_409_with_what_is_left(api, owner, customer_share, project_share, project, offering, plan,
                                               running):  # fmt: skip
    project_share(customer_share(1000), project, 300)
    resource = running(project, 250)
    api.as_user(owner)
    response = api.post(
        "/api/marketplace-orders/",
        {"project": str(project.uuid), "offering": str(offering.uuid), "plan": str(plan.uuid),
         "attributes": {"name": "Too much"}, "limits": {"cpu_k_hours": 51, "storage_tb": 1}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 409, response.content
    assert response.json()["limits"]["cpu_k_hours"] == ["Only 50 k-hours of cpu_k_hours is left of project "
        f"{project.name}'s share ({resource_share_dates(project)}); 51 k-hours asked."]  # fmt: skip
    response = api.post(
        f"/api/marketplace-resources/{resource.uuid}/update_limits/", {"limits": {"cpu_k_hours": 301}}, format="json"
    )
    assert response.status_code == 409, response.content
    assert "Only 300 k-hours" in response.json()["limits"]["cpu_k_hours"][0]
    response = api.post(
        f"/api/marketplace-resources/{resource.uuid}/update_limits/", {"limits": {"cpu_k_hours": 300}}, format="json"
    )
    assert response.status_code in (200, 201), response.content


def resource_share_dates(project) -> str:
    share = project.shares.get()
    return f"{share.start_date.isoformat()} to {share.end_date.isoformat()}"
