"""The marketplace pages of the portal: catalogue, ordering, resources and orders, all through the services."""

import html
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounting.models import ComponentUsage
from marketplace import services
from marketplace.models import Offering, Order, OrderState, OrderType, Resource, ResourceState
from tests.factories import OfferingFactory, ProjectFactory, catalogue_offering


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def order_data(project, plan, **overrides) -> dict:
    data = {
        "project": str(project.uuid),
        "plan": str(plan.uuid),
        "name": "Weather runs",
        "limit_cpu_k_hours": "100",
        "limit_storage_tb": "2",
    }
    data.update(overrides)
    return data


def text(response) -> str:
    return html.unescape(response.content.decode())


def form_errors(response, field: str) -> list[str]:
    return response.context["form"].errors.get(field, [])


# --- access ------------------------------------------------------------------------------------


@pytest.fixture
def pages(offering, order_in):
    order = order_in(OrderState.DONE)
    return [
        "/catalogue/",
        f"/catalogue/{offering.uuid}/",
        "/resources/",
        f"/resources/{order.resource.uuid}/",
        f"/resources/{order.resource.uuid}/terminate/",
        "/orders/",
        f"/orders/{order.uuid}/",
    ]


def test_every_page_needs_a_login(db, pages):
    for url in pages:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_every_page_renders_for_a_project_member(member, pages):
    client = browser(member)
    for url in pages:
        assert client.get(url).status_code == 200, url


def test_objects_of_other_projects_are_404(outsider, pages, offering):
    client = browser(outsider)
    for url in pages:
        expected = 200 if url.startswith("/catalogue/") or url in ("/resources/", "/orders/") else 404
        assert client.get(url).status_code == expected, url
    assert not client.get("/resources/").context["page"].object_list
    assert not client.get("/orders/").context["page"].object_list
    draft = OfferingFactory(state="Draft")
    assert client.get(f"/catalogue/{draft.uuid}/").status_code == 404


def test_posts_need_a_csrf_token(manager, ok_resource):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.post(f"/resources/{ok_resource.uuid}/terminate/").status_code == 403
    assert not ok_resource.orders.filter(type=OrderType.TERMINATE).exists()


# --- catalogue and ordering --------------------------------------------------------------------


def test_catalogue_lists_active_offerings_and_filters_by_name(member, offering, provider):
    catalogue_offering(customer=provider, name="Cloud storage")
    OfferingFactory(customer=provider, name="Paused thing", state="Paused")
    client = browser(member)
    page = client.get("/catalogue/").content
    assert b"HPC allocation" in page and b"Cloud storage" in page and b"Paused thing" not in page
    page = client.get("/catalogue/", {"name": "cloud"}).content
    assert b"Cloud storage" in page and b"HPC allocation" not in page


def test_offering_page_shows_components_plans_and_prices(manager, offering):
    page = browser(manager).get(f"/catalogue/{offering.uuid}/").content.decode()
    for text in ("cpu_k_hours", "storage_tb", "gpu_hours", "Standard", "k-hours", "1 – 1000"):
        assert text in page
    assert 'name="limit_cpu_k_hours"' in page and 'name="limit_gpu_hours"' not in page  # usage-billed: no limit


def test_ordering_through_the_form_creates_the_order(manager, project, offering, plan):
    response = browser(manager).post(f"/catalogue/{offering.uuid}/", order_data(project, plan))
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.uuid}/"
    assert (order.type, order.created_by, order.project, order.plan) == (OrderType.CREATE, manager, project, plan)
    assert order.state == OrderState.PENDING_PROVIDER  # a manager's order skips consumer review
    assert order.resource.name == "Weather runs"
    assert order.limits == {"cpu_k_hours": 100, "storage_tb": 2}
    followed = browser(manager).get(response["Location"])
    assert b"Pending provider" in followed.content  # the state as people read it


def test_empty_limits_take_the_default(manager, project, offering, plan):
    browser(manager).post(f"/catalogue/{offering.uuid}/", order_data(project, plan, limit_storage_tb=""))
    assert Order.objects.get().limits == {"cpu_k_hours": 100, "storage_tb": 1}


def test_refused_order_shows_the_service_message_and_changes_nothing(member, project, offering, plan):
    response = browser(member).post(f"/catalogue/{offering.uuid}/", order_data(project, plan))
    assert response.status_code == 200
    assert "Only the project's managers and admins" in text(response)
    assert not Order.objects.exists() and not Resource.objects.exists()


def test_limit_out_of_range_is_shown_next_to_its_field(manager, project, offering, plan):
    response = browser(manager).post(
        f"/catalogue/{offering.uuid}/", order_data(project, plan, limit_cpu_k_hours="5000")
    )
    assert form_errors(response, "limit_cpu_k_hours") == ["cpu_k_hours: must be at most 1000."]
    assert not Order.objects.exists()


def test_ordering_for_an_invisible_project_is_a_form_error(manager, offering, plan):
    other = ProjectFactory()
    response = browser(manager).post(f"/catalogue/{offering.uuid}/", order_data(other, plan))
    assert response.status_code == 200 and form_errors(response, "project")
    assert not Order.objects.exists()


def test_options_and_terms_of_service(manager, project, offering, plan, monkeypatch):
    class Caps:
        def feature_enabled(self, path):
            return path != "compute.vnc"

        def accounts_for(self, component_type):
            return True

    monkeypatch.setattr("portal.forms.capabilities", lambda offering: Caps())
    monkeypatch.setattr("marketplace.services.placing.capabilities", lambda offering: Caps())
    Offering.objects.filter(pk=offering.pk).update(
        terms_of_service="Be nice.",
        options={
            "order": ["partition", "gpus", "backup", "vnc"],
            "options": {
                "partition": {"type": "enum", "choices": ["cpu", "gpu"], "default": "cpu", "label": "Partition"},
                "gpus": {"type": "integer", "min": 0, "max": 8, "required": True},
                "backup": {"type": "boolean", "default": False},
                "vnc": {"type": "boolean", "requires_feature": "compute.vnc"},
            },
        },
    )
    client = browser(manager)
    page = client.get(f"/catalogue/{offering.uuid}/").content.decode()
    assert "Partition" in page and 'name="option_gpus"' in page and 'name="option_vnc"' not in page
    assert "Be nice." in page and 'name="accept_terms"' in page

    data = order_data(project, plan, option_partition="gpu", option_gpus="2", option_backup="on")
    assert form_errors(client.post(f"/catalogue/{offering.uuid}/", data), "accept_terms")
    missing = client.post(f"/catalogue/{offering.uuid}/", {**data, "option_gpus": "", "accept_terms": "on"})
    assert form_errors(missing, "option_gpus") == ["gpus: required."]
    assert not Order.objects.exists()

    response = client.post(f"/catalogue/{offering.uuid}/", {**data, "accept_terms": "on"})
    assert response.status_code == 302
    attributes = Order.objects.get().attributes
    assert attributes == {"name": "Weather runs", "partition": "gpu", "gpus": 2, "backup": True}


# --- resources ---------------------------------------------------------------------------------


def test_resource_list_filters_by_project_and_state(manager, project, customer, order_in, ok_resource):
    order_in(OrderState.PENDING_CONSUMER, attributes={"name": "Still creating"})
    client = browser(manager)
    page = client.get("/resources/").content
    assert b"Allocation" in page and b"Still creating" in page
    page = client.get("/resources/", {"state": "OK"}).content
    assert b"Allocation" in page and b"Still creating" not in page
    assert b"Still creating" not in client.get("/resources/", {"project": str(ProjectFactory().uuid)}).content
    assert b"Still creating" in client.get("/resources/", {"project": str(project.uuid)}).content
    bad = client.get("/resources/", {"project": "not-a-uuid"})
    assert bad.status_code == 200 and b"Still creating" not in bad.content


def test_resource_page_shows_limits_backend_history_and_usage(member, ok_resource):
    month = timezone.localdate().replace(day=1)
    now = timezone.now()
    for username, usage in (("", "12.5"), ("alice", "10"), ("bob", "2.5")):
        ComponentUsage.objects.create(
            resource=ok_resource,
            component_type="cpu_k_hours",
            billing_period=month,
            username=username,
            usage=Decimal(usage),
            reported_at=now,
        )
    last_year = month.replace(year=month.year - 1)
    ComponentUsage.objects.create(
        resource=ok_resource, component_type="gpu_hours", billing_period=last_year, usage=7777, reported_at=now
    )
    page = browser(member).get(f"/resources/{ok_resource.uuid}/").content.decode()
    assert "backend-1" in page and ">OK<" in page
    assert "12.5" in page and "alice" in page and "bob" in page
    # Last year's usage is in the resource's monthly figures, not in this month's or the period's.
    assert f'<th scope="row">{last_year:%B %Y}</th><td>7,777</td>' in page and "7,777 used" not in page
    assert "Creating" in page and "Created with its create order." in page  # state history
    assert f"/orders/{ok_resource.orders.get().uuid}/" in page


def test_update_limits_through_the_form(manager, ok_resource):
    response = browser(manager).post(
        f"/resources/{ok_resource.uuid}/limits/", {"limit_cpu_k_hours": "300", "limit_storage_tb": "2"}
    )
    order = ok_resource.orders.get(type=OrderType.UPDATE)
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.uuid}/"
    assert order.limits == {"cpu_k_hours": 300, "storage_tb": 2}
    ok_resource.refresh_from_db()
    assert ok_resource.state == ResourceState.UPDATING


def test_unchanged_or_refused_limits_show_the_message(manager, member, ok_resource):
    same = {"limit_cpu_k_hours": "100", "limit_storage_tb": "2"}
    response = browser(manager).post(f"/resources/{ok_resource.uuid}/limits/", same)
    assert response.status_code == 200 and "equal the current ones" in text(response)
    response = browser(member).post(f"/resources/{ok_resource.uuid}/limits/", {"limit_cpu_k_hours": "5"})
    assert "Only the project's managers and admins" in text(response)
    assert not ok_resource.orders.filter(type=OrderType.UPDATE).exists()


def test_terminate_asks_for_confirmation_then_orders(manager, ok_resource):
    client = browser(manager)
    confirm = client.get(f"/resources/{ok_resource.uuid}/terminate/")
    assert b"Yes, terminate" in confirm.content
    assert not ok_resource.orders.filter(type=OrderType.TERMINATE).exists()
    response = client.post(f"/resources/{ok_resource.uuid}/terminate/")
    order = ok_resource.orders.get(type=OrderType.TERMINATE)
    assert response["Location"] == f"/orders/{order.uuid}/"
    again = client.post(f"/resources/{ok_resource.uuid}/terminate/")
    assert again.status_code == 200 and "needs it OK or Erred" in text(again)


def test_terminate_refused_for_a_member(member, ok_resource):
    response = browser(member).post(f"/resources/{ok_resource.uuid}/terminate/")
    assert response.status_code == 200 and "Only the project's managers" in text(response)
    assert not ok_resource.orders.filter(type=OrderType.TERMINATE).exists()


def test_outsider_cannot_act_on_a_resource(outsider, ok_resource):
    client = browser(outsider)
    assert client.post(f"/resources/{ok_resource.uuid}/limits/", {"limit_cpu_k_hours": "5"}).status_code == 404
    assert client.post(f"/resources/{ok_resource.uuid}/terminate/").status_code == 404
    assert ok_resource.orders.count() == 1


def test_project_page_lists_its_resources(member, project, ok_resource):
    page = browser(member).get(f"/projects/{project.uuid}/").content.decode()
    assert "Resources" in page and f"/resources/{ok_resource.uuid}/" in page and "backend-1" in page


def test_project_page_takes_its_resources_from_the_marketplace_selector(member, project, ok_resource, monkeypatch):
    from marketplace import selectors

    asked = []
    real = selectors.project_resources

    def spy(**kwargs):
        asked.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(selectors, "project_resources", spy)
    page = browser(member).get(f"/projects/{project.uuid}/").content.decode()
    assert asked == [{"user": member, "project": project}] and f"/resources/{ok_resource.uuid}/" in page


# --- orders ------------------------------------------------------------------------------------


def test_order_list_filters_by_state(manager, order_in):
    done, pending = order_in(OrderState.DONE), order_in(OrderState.PENDING_CONSUMER, attributes={"name": "Later"})
    client = browser(manager)
    page = client.get("/orders/").content.decode()
    assert str(done.uuid) in page and str(pending.uuid) in page
    page = client.get("/orders/", {"state": "pending-consumer"}).content.decode()
    assert str(done.uuid) not in page and str(pending.uuid) in page


def test_order_page_shows_history_and_cancels_while_pending(project_admin, order_in):
    order = order_in(OrderState.PENDING_CONSUMER)
    client = browser(project_admin)
    page = client.get(f"/orders/{order.uuid}/").content.decode()
    assert "Order placed." in page and "Cancel this order" in page
    response = client.post(f"/orders/{order.uuid}/cancel/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.CANCELED
    page = client.get(response["Location"]).content.decode()
    assert "Order canceled." in page and "Cancel this order" not in page


def test_cancel_refused_shows_the_message(member, project_admin, order_in):
    order = order_in(OrderState.PENDING_CONSUMER)
    response = browser(member).post(f"/orders/{order.uuid}/cancel/")
    assert response.status_code == 200 and "Only its creator and staff may cancel" in text(response)
    done = order_in(OrderState.DONE)
    response = browser(project_admin).post(f"/orders/{done.uuid}/cancel/")
    assert response.status_code == 200 and "Cannot cancel the order" in text(response)
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_CONSUMER


def test_cancel_is_post_only_and_404_for_outsiders(outsider, project_admin, order_in):
    order = order_in(OrderState.PENDING_CONSUMER)
    assert browser(project_admin).get(f"/orders/{order.uuid}/cancel/").status_code == 405
    assert browser(outsider).post(f"/orders/{order.uuid}/cancel/").status_code == 404


# --- query counts ------------------------------------------------------------------------------

# page → queries: 1 session, 1 user, 1 count, 1 page, then one per prefetched relation or extra list.
PINNED = {
    "/catalogue/": 7,  # + components, plans, plan prices
    "/resources/": 5,  # + the projects of the filter
    "/orders/": 5,  # + the projects of the filter, the count of each state (whose sum is the count)
}


@pytest.fixture
def populated(provider, manager, order_in):
    for _ in range(4):
        catalogue_offering(customer=provider)
    for state in (OrderState.DONE, OrderState.ERRED, OrderState.EXECUTING, OrderState.REJECTED, OrderState.DONE):
        order_in(state)
    services.resource_update_limits(
        resource=order_in(OrderState.DONE).resource, actor=manager, limits={"cpu_k_hours": 999}
    )


@pytest.mark.parametrize("url", list(PINNED))
def test_list_page_query_count_is_pinned(manager, populated, django_assert_num_queries, url):
    client = browser(manager)
    for page_size in (2, 10):
        with django_assert_num_queries(PINNED[url]):
            response = client.get(url, {"page_size": page_size})
        assert response.status_code == 200
        page = response.context["page"]
        assert page.paginator.count > 2 and len(page.object_list) == min(page_size, page.paginator.count)
