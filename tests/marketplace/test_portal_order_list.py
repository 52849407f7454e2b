"""The orders list: sorted by column, searched by text, filtered with labelled controls that show how many
orders each state holds, and downloaded as CSV with the page's filters, order and visibility. The API's
order list takes the same search and sort (one filter set). Past PROJECT_CHOICES projects, the lists' and
the order form's project is typed as a UUID instead of picked from a list."""

import csv
import html
import io

import pytest
from django.test import Client

from federation.models import RoleName
from marketplace.models import Order, OrderState
from tests.factories import ProjectFactory, grant


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_text(client, **params) -> str:
    response = client.get("/orders/", params)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def browser_page(client, **params):
    return client.get("/orders/", params).context["page"]


def names(client, **params) -> list[str]:
    return [order.resource.name for order in browser_page(client, **params)]


def download(client, **params) -> list[list[str]]:
    response = client.get("/orders/csv/", params)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def three(order_in, customer, project_admin):
    """Birch (done), Alder (erred) and Cedar (waiting for the project), Cedar in another project."""
    other = ProjectFactory(customer=customer, name="Astro surveys")
    grant(project_admin, other, RoleName.PROJECT_ADMIN)
    orders = {
        "Birch": order_in(OrderState.DONE, attributes={"name": "Birch"}),
        "Alder": order_in(OrderState.ERRED, attributes={"name": "Alder"}),
        "Cedar": order_in(OrderState.PENDING_CONSUMER, attributes={"name": "Cedar"}, project=other),
    }
    return orders


@pytest.fixture
def client(owner):
    """The organisation's owner: sees the orders of both projects."""
    return browser(owner)


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        ("resource_name", ["Alder", "Birch", "Cedar"]),
        ("-resource_name", ["Cedar", "Birch", "Alder"]),
        ("created", ["Birch", "Alder", "Cedar"]),
        ("-created", ["Cedar", "Alder", "Birch"]),
    ],
)
def test_sorting_by_column(client, three, o, expected):
    assert names(client, o=o) == expected


def test_sorting_by_project_and_state_and_the_headers_say_how_it_is_sorted(client, three):
    assert names(client, o="project_name")[0] == "Cedar"  # Astro surveys before Climate models
    assert names(client, o="-project_name")[-1] == "Cedar"
    assert [o.state for o in browser_page(client, o="state")] == sorted(o.state for o in three.values())
    body = page_text(client, o="resource_name", state="done")
    assert '<th scope="col" aria-sort="ascending"><a href="?o=-resource_name&state=done">Resource ▲</a></th>' in body
    assert body.count("aria-sort=") == 1
    assert '<input type="hidden" name="o" value="resource_name">' in body  # filtering keeps the order


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ced", ["Cedar"]),
        ("ASTRO", ["Cedar"]),
        ("climate", ["Alder", "Birch"]),
        ("HPC alloc", ["Alder", "Birch", "Cedar"]),
    ],
)
def test_text_search_over_resource_offering_and_project_names(client, three, query, expected):
    assert names(client, query=query, o="resource_name") == expected


def test_the_filters_are_labelled_and_count_the_orders_of_each_state(client, three):
    body = page_text(client)
    for control, label in (("query", "Resource, offering or project"), ("project", "Project"), ("state", "State")):
        assert f'<label for="orders-{control}">{label}</label>' in body and f'id="orders-{control}"' in body
    assert '<label for="orders-type">Type</label>' in body
    assert "3 orders</span>" in body
    assert ">Done (1)</option>" in body and ">Erred (1)</option>" in body and ">Pending consumer (1)</option>" in body
    # The state counts follow the other filters, not the state filter itself.
    body = page_text(client, query="climate", state="done")
    assert "1 order</span>" in body and ">Done (1)</option>" in body and ">Erred (1)</option>" in body
    assert ">Pending consumer (0)</option>" in body
    assert 'href="/orders/csv/?query=climate&state=done" download>Download as CSV</a>' in body


def test_a_bad_filter_shows_no_orders_and_says_why(client, three):
    response = client.get("/orders/", {"project": "not-a-uuid"})
    assert response.status_code == 200 and not response.context["page"].object_list
    assert "Expected a URL or UUID of the object." in html.unescape(response.content.decode())


def test_the_csv_has_the_pages_filters_and_order_and_no_formulas(client, three):
    rows = download(client, o="-resource_name")
    assert rows[0] == [
        "Order UUID",
        "Type",
        "Resource",
        "Resource UUID",
        "Offering",
        "Provider",
        "Project",
        "Organisation",
        "State",
        "Placed by",
        "Created (UTC)",
    ]
    assert [row[2] for row in rows[1:]] == ["Cedar", "Birch", "Alder"]
    birch = three["Birch"]
    assert rows[2] == [
        str(birch.uuid),
        "Create",
        "Birch",
        str(birch.resource.uuid),
        birch.offering.name,
        birch.offering.customer.name,
        birch.project.name,
        birch.project.customer.name,
        "Done",
        str(birch.created_by),
        f"{birch.created:%Y-%m-%d %H:%M:%S}",
    ]
    assert [row[2] for row in download(client, query="astro")[1:]] == ["Cedar"]
    three["Cedar"].resource.__class__.objects.filter(name="Cedar").update(name="@SUM(1)")
    assert sorted(row[2] for row in download(client)[1:]) == ["'@SUM(1)", "Alder", "Birch"]
    assert download(client, project="not-a-uuid") == [rows[0]]  # a bad filter gives no rows, not all rows


def test_the_csv_shows_only_what_the_person_may_see(outsider, manager, three):
    assert len(download(browser(outsider))) == 1
    assert [row[2] for row in download(browser(manager))[1:]] == ["Alder", "Birch"]  # not the other project's
    assert Client().get("/orders/csv/").status_code == 302  # to the login page


@pytest.mark.parametrize("extra", [0, 15])
def test_the_csv_asks_a_fixed_number_of_queries(client, order_in, django_assert_num_queries, extra):
    for number in range(1 + extra):
        order_in(OrderState.DONE, attributes={"name": f"Run {number}"})
    with django_assert_num_queries(3):  # session, user, the orders with their offering, project and resource
        body = b"".join(client.get("/orders/csv/").streaming_content)
    assert body.count(b"\r\n") == 2 + extra


def test_the_api_searches_and_sorts_with_the_same_filter_set(api, owner, three):
    client = api.as_user(owner)
    rows = client.get("/api/marketplace-orders/", {"query": "climate", "o": "-resource_name"}).json()
    assert [Order.objects.get(uuid=row["uuid"]).resource.name for row in rows] == ["Birch", "Alder"]


def test_with_more_projects_than_a_list_holds_the_project_is_given_by_uuid(
    monkeypatch, client, project, offering, plan, three
):
    monkeypatch.setattr("portal.selectors.PROJECT_CHOICES", 1)  # the owner sees two projects
    body = page_text(client)
    assert '<label for="orders-project">Project (UUID)</label>' in body and "All projects" not in body
    assert len(browser_page(client, project=str(project.uuid)).object_list) == 2  # Alder and Birch
    assert 'placeholder="Project UUID"' in html.unescape(client.get("/resources/").content.decode())
    page = html.unescape(client.get(f"/catalogue/{offering.uuid}/").content.decode())
    assert 'name="project" size="36"' in page and "as shown in the address of its page" in page
    data = {"project": str(project.uuid), "plan": str(plan.uuid), "name": "Typed", "limit_cpu_k_hours": "10"}
    response = client.post(f"/catalogue/{offering.uuid}/", {**data, "limit_storage_tb": "1"})
    assert response.status_code == 302 and Order.objects.filter(attributes__name="Typed").exists()
    monkeypatch.setattr("portal.selectors.PROJECT_CHOICES", 200)
    assert ">Astro surveys</option>" in page_text(client)  # a list again, by name


@pytest.mark.parametrize("query", ["ced", "ASTRO", "climate", "HPC alloc", "nothing like it", "%", "_"])
def test_the_pages_text_search_finds_what_the_filter_set_finds(owner, three, query):
    """The page asks for the matching orders by id (`portal.filters.OrderListFilter`): the same rows as the
    marketplace's filter set, which the API and the CSV use."""
    from marketplace.filters import OrderFilter
    from portal.filters import OrderListFilter

    orders = Order.objects.visible_to(owner)
    found = {
        filter_class: set(filter_class({"query": query}, queryset=orders).qs.values_list("id", flat=True))
        for filter_class in (OrderFilter, OrderListFilter)
    }
    assert found[OrderListFilter] == found[OrderFilter]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"state": "done"},
        {"state": ["done", "erred"]},
        {"state": "done,DONE,erred"},
        {"state": "executing"},
        {"query": "climate", "state": "done"},
        {"type": "Create"},
        {"state": "no-such-state"},
    ],
)
def test_the_count_is_the_sum_of_the_state_counts_and_counts_the_list(client, three, params):
    """The page's count comes from the counts of each state, without a count of its own: it must be the
    number of orders the filters leave."""
    from urllib.parse import urlencode

    from django.http import QueryDict

    from marketplace.filters import OrderFilter

    page = browser_page(client, **params)
    filterset = OrderFilter(QueryDict(urlencode(params, doseq=True)), queryset=Order.objects.all())
    expected = filterset.qs.count() if filterset.is_valid() else 0
    assert page.paginator.count == expected
