"""`/api/shares/`: staff grant, owners divide, everyone sees what their roles allow, with allocated / used /
remaining and children, in a fixed number of queries."""

from decimal import Decimal

import pytest

from accounting.shares.models import Share
from events.models import Event
from federation.models import RoleName
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, grant

pytestmark = pytest.mark.django_db

D = Decimal


def grant_body(customer, offering, today, amount="1000"):
    return {
        "customer": str(customer.uuid), "offering": str(offering.uuid), "component_type": "cpu_k_hours",
        "amount": amount, "start_date": today.isoformat(), "end_date": today.replace(year=today.year + 1).isoformat(),
    }  # fmt: skip


def test_staff_grant_a_customer_share_and_owners_divide_it(api, staff, owner, customer, project, offering, today):
    response = api.as_user(staff).post("/api/shares/", grant_body(customer, offering, today), format="json")
    assert response.status_code == 201, response.content
    root = response.json()
    assert (root["amount"], root["allocated"], root["used"], root["remaining"]) == ("1000", "0", "0", "1000")
    assert root["measured_unit"] == "k-hours" and root["children"] == [] and root["project_uuid"] is None

    body = {"parent": root["url"], "project": str(project.uuid), "amount": "250.5"}
    response = api.as_user(owner).post("/api/shares/", body, format="json")
    assert response.status_code == 201, response.content
    child = response.json()
    assert (child["parent_uuid"], child["project_uuid"], child["amount"]) == (root["uuid"], str(project.uuid), "250.5")
    assert (child["start_date"], child["end_date"]) == (root["start_date"], root["end_date"])

    root = api.get(root["url"]).json()
    assert (root["allocated"], root["remaining"]) == ("250.5", "749.5")
    assert [(c["uuid"], c["amount"], c["remaining"]) for c in root["children"]] == [(child["uuid"], "250.5", "250.5")]

    response = api.patch(child["url"], {"amount": "300"}, format="json")
    assert response.status_code == 200 and response.json()["amount"] == "300"
    kinds = list(Event.objects.order_by("id").values_list("event_type", "scope_type"))
    assert kinds[-3:] == [("share_granted", "customer"), ("share_granted", "project"), ("share_changed", "project")]


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 403), ("manager", 403), ("outsider", 400), ("staff", 201)],
)
def test_only_staff_grant_customer_shares(api, request, customer, offering, today, who, status):
    user = request.getfixturevalue(who)
    response = api.as_user(user).post("/api/shares/", grant_body(customer, offering, today), format="json")
    assert response.status_code == status, response.content
    assert Share.objects.count() == (1 if status == 201 else 0)


# The customer share is invisible to a project's people: naming it as the parent is a 400 on `parent`.
@pytest.mark.parametrize(("who", "status"), [("manager", 400), ("member", 400), ("owner", 201), ("staff", 201)])
def test_only_owners_and_staff_divide(api, request, customer_share, project, who, status):
    root = customer_share(1000)
    user = request.getfixturevalue(who)
    body = {"parent": str(root.uuid), "project": str(project.uuid), "amount": "10"}
    response = api.as_user(user).post("/api/shares/", body, format="json")
    assert response.status_code == status, response.content
    assert Share.objects.filter(parent=root).count() == (1 if status == 201 else 0)


def test_refusals_name_their_field(api, owner, customer_share, project):
    root = customer_share(1000)
    api.as_user(owner)
    over = api.post("/api/shares/", {"parent": str(root.uuid), "project": str(project.uuid), "amount": "1001"},
                    format="json")  # fmt: skip
    assert over.status_code == 400 and "over-allocation factor" in over.json()["amount"][0]
    late = {"parent": str(root.uuid), "project": str(project.uuid), "amount": "1",
            "end_date": root.end_date.replace(year=root.end_date.year + 1).isoformat()}  # fmt: skip
    response = api.post("/api/shares/", late, format="json")
    assert response.status_code == 400 and "must not outlive" in response.json()["end_date"][0]
    response = api.post("/api/shares/", {"amount": "1"}, format="json")
    assert response.status_code == 400 and "customer" in response.json()


def test_visibility(api, staff, owner, manager, member, outsider, customer, customer_share, project_share, project):
    root = customer_share(1000)
    mine = project_share(root, project, 100)
    other_project = ProjectFactory(customer=customer)
    theirs = project_share(root, other_project, 100)
    provider_owner = UserFactory(username="provider-owner")
    grant(provider_owner, root.offering.customer, RoleName.CUSTOMER_OWNER)

    def seen(user):
        return {row["uuid"] for row in api.as_user(user).get("/api/shares/", {"page_size": 50}).json()}

    everything = {str(root.uuid), str(mine.uuid), str(theirs.uuid)}
    assert seen(staff) == seen(owner) == seen(provider_owner) == everything
    assert seen(manager) == seen(member) == {str(mine.uuid)}
    assert seen(outsider) == set()
    assert api.as_user(member).get(f"/api/shares/{root.uuid}/").status_code == 404
    assert api.as_user(outsider).patch(f"/api/shares/{mine.uuid}/", {"amount": "1"}, format="json").status_code == 404


def test_figures_in_the_list(api, owner, customer, customer_share, project_share, project, running, report_usage):
    root = customer_share(1000)
    project_share(root, project, 300)
    report_usage(running(project, 120), 80)
    report_usage(running(ProjectFactory(customer=customer), 200, name="Other"), 500)
    rows = {row["uuid"]: row for row in api.as_user(owner).get("/api/shares/").json()}
    row = rows[str(root.uuid)]
    assert (row["allocated"], row["used"], row["remaining"]) == ("500", "580", "420")
    (child,) = row["children"]
    assert (child["allocated"], child["used"], child["remaining"]) == ("120", "80", "180")


@pytest.fixture
def many_shares(owner, customer, offering, customer_share, project_share, running, report_usage):
    """Twenty-four shares over three customers the owner owns, with resources and usage under each."""
    for index in range(3):
        other = customer if index == 0 else CustomerFactory()
        if index:
            grant(owner, other, RoleName.CUSTOMER_OWNER)
        root = customer_share(1000, of=other)
        for _ in range(7):
            project = ProjectFactory(customer=other)
            project_share(root, project, 100)
            report_usage(running(project, 10), 5)


@pytest.mark.parametrize("user", ["staff", "owner"])
def test_list_query_count_is_pinned(api, request, django_assert_num_queries, many_shares, user):
    client = api.as_user(request.getfixturevalue(user))
    for page_size in (2, 20):
        # token, count, page, then the trees: children, resources, usage
        with django_assert_num_queries(6):
            response = client.get("/api/shares/", {"page_size": page_size})
        assert response.status_code == 200
        assert len(response.json()) == page_size
    with django_assert_num_queries(6):
        assert client.get("/api/shares/", {"page_size": 20, "root": "true"}).status_code == 200


def test_the_admin_lists_shares_with_their_figures(staff, customer_share, project_share, project, running):
    from django.test import Client

    root = customer_share(1000)
    child = project_share(root, project, 300)
    running(project, 120)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/accounting/share/")
    assert page.status_code == 200
    assert b'field-remaining">700<' in page.content  # the customer share, less its project share
    assert b'field-remaining">180<' in page.content  # the project share, less its resource
    detail = client.get(f"/admin/accounting/share/{root.pk}/change/")
    assert detail.status_code == 200 and project.name.encode() in detail.content
    assert client.get(f"/admin/accounting/share/{child.pk}/change/").status_code == 200
    assert client.get("/admin/accounting/share/add/").status_code == 403


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [("owner", "root", 403), ("staff", "root", 200), ("manager", "child", 403), ("owner", "child", 200)],
)
def test_who_may_change_a_share(api, request, customer_share, project_share, project, who, target, status):
    root = customer_share(1000)
    child = project_share(root, project, 100)
    share = root if target == "root" else child
    response = api.as_user(request.getfixturevalue(who)).patch(
        f"/api/shares/{share.uuid}/", {"amount": "500"}, format="json"
    )
    assert response.status_code == status, response.content
    share.refresh_from_db()
    assert share.amount == (D(500) if status == 200 else D(1000) if target == "root" else D(100))
