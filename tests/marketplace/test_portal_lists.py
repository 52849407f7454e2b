"""The resources list sorted by column and downloaded as CSV: the page's filters, order and visibility,
one streamed query whatever the number of rows."""

import csv
import html
import io

import pytest
from django.test import Client

from marketplace.models import OrderState, Resource, ResourceState


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def download(client, **params) -> list[list[str]]:
    response = client.get("/resources/csv/", params)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="resources-')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def three(order_in):
    """Three resources of the project: Birch (OK), Alder (erred while creating), Cedar (creating)."""
    for name, state in (("Birch", OrderState.DONE), ("Alder", OrderState.ERRED), ("Cedar", OrderState.EXECUTING)):
        order_in(state, attributes={"name": name})
    return {r.name: r for r in Resource.objects.all()}


# (the o parameter, the names in that order, the header marked sorted, its aria-sort, the next o of that header)
SORTS = [
    ("name", ["Alder", "Birch", "Cedar"], "Resource", "ascending", "-name"),
    ("-name", ["Cedar", "Birch", "Alder"], "Resource", "descending", "name"),
    ("created", ["Birch", "Alder", "Cedar"], "Created", "ascending", "-created"),
]


@pytest.mark.parametrize(("o", "names", "header", "aria", "next_o"), SORTS)
def test_sorting_by_column(manager, three, o, names, header, aria, next_o):
    response = browser(manager).get("/resources/", {"o": o, "state": ["OK", "Erred", "Creating"], "page": "1"})
    assert [r.name for r in response.context["page"]] == names
    body = html.unescape(response.content.decode())
    arrow = "▲" if aria == "ascending" else "▼"
    assert f'<th scope="col" aria-sort="{aria}"><a href="?o={next_o}&state=OK&state=Erred&state=Creating">' in body
    assert f"{header} {arrow}</a></th>" in body and body.count("aria-sort=") == 1


def test_the_csv_has_the_pages_filters_and_order_and_no_formulas(manager, three):
    client = browser(manager)
    rows = download(client, o="-name")
    assert rows[0][:3] == ["Resource", "UUID", "Offering"] and len(rows) == 4
    assert [row[0] for row in rows[1:]] == ["Cedar", "Birch", "Alder"]
    Resource.objects.filter(name="Cedar").update(name="=HYPERLINK(1)")
    assert sorted(row[0] for row in download(client)[1:]) == ["'=HYPERLINK(1)", "Alder", "Birch"]
    birch = three["Birch"]
    assert rows[2] == [
        "Birch",
        str(birch.uuid),
        birch.offering.name,
        birch.offering.customer.name,
        birch.project.name,
        birch.project.customer.name,
        ResourceState.OK.label,
        birch.backend_id or "",
        f"{birch.created:%Y-%m-%d %H:%M:%S}",
    ]
    assert [row[0] for row in download(client, state="Erred")[1:]] == ["Alder"]
    assert download(client, project="not-a-uuid") == [rows[0]]  # a bad filter gives no rows, not all rows


def test_the_csv_shows_only_what_the_person_may_see(outsider, three):
    assert len(download(browser(outsider))) == 1
    assert Client().get("/resources/csv/").status_code == 302  # to the login page


def test_the_list_links_the_csv_of_the_same_filters(manager, three):
    body = html.unescape(browser(manager).get("/resources/", {"state": "OK", "page": "2"}).content.decode())
    assert 'href="/resources/csv/?state=OK" download>Download as CSV</a>' in body
    assert "1 resource</span>" in body  # the count of the filtered list, not of one page


@pytest.mark.parametrize("extra", [0, 15])
def test_the_csv_asks_a_fixed_number_of_queries(manager, order_in, django_assert_num_queries, extra):
    order_in(OrderState.DONE)
    project = Resource.objects.get().project
    for number in range(extra):
        order_in(OrderState.DONE, attributes={"name": f"Run {number}"}, project=project)
    client = browser(manager)
    with django_assert_num_queries(3):  # session, user, the resources with offering, provider and project
        response = client.get("/resources/csv/")
        body = b"".join(response.streaming_content)
    assert body.count(b"\r\n") == 2 + extra
