"""The dashboard's "needs attention": orders the person may review (the same rule as the services'
permission functions, checked order by order), erred resources, resources from 80 % of a limit, projects
ending soon; reviewed from the dashboard, back to it; a fixed number of queries whatever the data."""

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounting.models import ComponentUsage
from marketplace.models import OrderState
from portal.selectors import orders_to_review
from portal.views.marketplace import _review_side
from tests.factories import ProjectFactory


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def dashboard(user) -> str:
    response = browser(user).get("/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def use(resource, amount):
    ComponentUsage.objects.create(
        resource=resource,
        component_type="cpu_k_hours",
        billing_period=timezone.localdate().replace(day=1),
        usage=Decimal(amount),
        reported_at=timezone.now(),
    )


PEOPLE = ["manager", "member", "project_admin", "owner", "provider_owner", "staff", "support", "outsider"]
STATES = [OrderState.PENDING_CONSUMER, OrderState.PENDING_PROVIDER, OrderState.EXECUTING, OrderState.DONE]


@pytest.mark.parametrize("who", PEOPLE)
def test_the_queue_holds_exactly_the_orders_the_permission_functions_allow(request, order_in, who):
    orders = [order_in(state, attributes={"name": f"R{i}"}) for i, state in enumerate(STATES)]
    user = request.getfixturevalue(who)
    queued = set(orders_to_review(user).values_list("id", flat=True))
    allowed = {order.id for order in orders if _review_side(user, order) is not None}
    assert queued == allowed
    expected = {
        "manager": {0},
        "owner": {0},
        "provider_owner": {1},
        "staff": {0, 1},
    }.get(who, set())
    assert queued == {orders[i].id for i in expected}


def test_dashboard_lists_what_needs_attention(settings, manager, project, order_in):
    settings.PROJECT_END_WARNING_DAYS = [30, 7]
    waiting = order_in(OrderState.PENDING_CONSUMER, attributes={"name": "Waiting"})
    erred = order_in(OrderState.ERRED, attributes={"name": "Broken"}).resource
    near = order_in(OrderState.DONE, attributes={"name": "Nearly full"}).resource
    fine = order_in(OrderState.DONE, attributes={"name": "Plenty left"}).resource
    use(near, 85)  # of a limit of 100
    use(fine, 50)
    project.end_date = timezone.localdate() + timedelta(days=10)
    project.save()
    later = ProjectFactory(
        customer=project.customer, name="Ends later", end_date=timezone.localdate() + timedelta(days=40)
    )
    manager.role_grants.create(role_id=manager.role_grants.get().role_id, project=later)
    text = dashboard(manager)
    assert f'action="/orders/{waiting.uuid}/review/"' in text and ">Approve<" in text
    assert f'href="/orders/{waiting.uuid}/#reject"' in text and ">Reject…<" in text  # a rejection needs a reason
    assert "Erred resources" in text and f"/resources/{erred.uuid}/" in text
    assert "Nearly full</a>:" in text and "<strong>85 %</strong> — near the limit" in text
    assert "Plenty left</a>:" not in text
    assert "Projects ending within 30 days" in text and f"{project.name}</a> ends on" in text
    assert "Ends later</a> ends on" not in text


def test_a_plain_member_has_nothing_to_approve(member, order_in):
    order_in(OrderState.PENDING_CONSUMER)
    text = dashboard(member)
    assert ">Approve<" not in text and "Orders waiting for your approval" not in text


def test_nothing_to_do_says_so(outsider):
    assert "Nothing needs your attention." in dashboard(outsider)


def test_approving_from_the_dashboard_returns_to_it(manager, order_in):
    order = order_in(OrderState.PENDING_CONSUMER)
    client = browser(manager)
    response = client.post(
        f"/orders/{order.uuid}/review/", {"side": "consumer", "decision": "approve", "back": "dashboard"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PROVIDER
    text = html.unescape(client.get("/").content.decode())
    assert "Order approved; it is now pending provider." in text and f"/orders/{order.uuid}/review/" not in text


# session, user, projects count, projects page, orders to review, the scan for near limits, its components,
# its usage, erred resources, ending projects
DASHBOARD_QUERIES = 10


@pytest.mark.parametrize("size", [1, 4])
def test_dashboard_query_count_is_fixed(settings, manager, project, order_in, django_assert_num_queries, size):
    project.end_date = timezone.localdate() + timedelta(days=3)
    project.save()
    for i in range(size):
        order_in(OrderState.PENDING_CONSUMER, attributes={"name": f"Waiting {i}"})
        order_in(OrderState.ERRED, attributes={"name": f"Broken {i}"})
        use(order_in(OrderState.DONE, attributes={"name": f"Full {i}"}).resource, 90 + i)
    client = browser(manager)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get("/")
    assert response.status_code == 200
    assert response.content.decode().count("near the limit") == size


@pytest.mark.parametrize("who", PEOPLE)
def test_the_projects_offered_for_ordering_are_those_can_order_allows(request, project, who):
    from federation.models import Project
    from marketplace.permissions import can_order
    from portal.selectors import projects_to_order_for

    other = ProjectFactory(customer=project.customer)
    elsewhere = ProjectFactory()
    user = request.getfixturevalue(who)
    candidates = Project.objects.filter(id__in=[project.id, other.id, elsewhere.id])
    offered = set(projects_to_order_for(user, candidates).values_list("id", flat=True))
    assert offered == {p.id for p in candidates if can_order(user, p)}


@pytest.mark.parametrize(("who", "offered"), [("manager", True), ("project_admin", True), ("member", False)])
def test_the_order_form_is_offered_only_to_those_who_may_order(request, offering, who, offered):
    text = html.unescape(browser(request.getfixturevalue(who)).get(f"/catalogue/{offering.uuid}/").content.decode())
    assert ("Place order" in text) is offered
    assert ("you are in no active project where you may order" in text) is not offered
