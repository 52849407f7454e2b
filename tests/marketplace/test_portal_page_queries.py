"""Every portal page asks the database the same number of queries with a few rows and with many: a
researcher (a project manager) and staff open each page over a world with two of everything, then over
the same world grown to thirty (projects, resources, orders, members, offerings, usage rows), and the
counts are pinned exactly. A template that queries per row, or a lost select_related, fails here."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounting import periods
from accounting.models import ComponentUsage
from federation.models import Project, RoleName
from marketplace import services
from marketplace.models import Resource
from tests.factories import ProjectFactory, UserFactory, catalogue_offering, grant

SMALL, LARGE = 2, 30

# path → (queries for the researcher, for staff). Every page starts with the session and the user.
PINNED = {
    "/": (10, 10),  # + the projects' count and page, orders to review, the near-limit scan and its usage, …
    "/catalogue/": (7, 7),  # + count, page, and one query per prefetched relation of the offerings
    "/catalogue/{offering}/": (7, 7),  # + the offering, its components, plans, prices, the projects to order for
    "/resources/": (5, 5),  # + count, page, the projects of the filter
    "/resources/csv/": (3, 3),  # + the one streamed query
    "/resources/{resource}/": (10, 9),  # the researcher's page also asks whether they may order
    "/resources/{resource}/terminate/": (3, 3),
    "/orders/": (5, 5),  # + page, the projects of the filter, the count of each state (summed for the count)
    "/orders/csv/": (3, 3),
    "/orders/{order}/": (5, 5),
    "/projects/{project}/": (6, 5),  # the researcher's page also asks which roles they may grant
    "/settings/notifications/": (2, 2),
    "/accounts/providers/": (3, 3),
    "/queues/": (2, 11),  # staff's page; a researcher is refused (403) after the session and the user
    "/no-such-page/": (2, 2),
}


def _done(**fields):
    order = services.order_create(actor=None, **fields)
    order = services.order_approve_by_provider(order=order, actor=None)
    return services.order_set_state_done(order=order, actor=None, backend_id=f"acct-{order.pk}")


class World:
    """A project of the researcher's with resources, orders, usage and members; `grow_to(n)` adds rows
    until there are `n` of each, leaving the objects the pages show the same."""

    def __init__(self, *, customer, project, provider, manager):
        self.customer, self.project, self.provider, self.manager = customer, project, provider, manager
        self.offering = catalogue_offering(customer=provider, name="HPC allocation")
        self.fields = dict(project=project, offering=self.offering, plan=self.offering.plans.get())
        self.resources, self.projects, self.offerings, self.members = [], [project], [self.offering], []
        first = _done(attributes={"name": "Run 0"}, limits={"cpu_k_hours": 100}, **self.fields)
        self.resource, self.order = first.resource, first
        self.resources.append(self.resource)
        self.updates = 0
        self.project.end_date = timezone.localdate() + timedelta(days=5)
        self.project.save(update_fields=["end_date"])

    def grow_to(self, n: int):
        today = timezone.localdate().replace(day=1)
        while len(self.projects) < n:
            extra = ProjectFactory(customer=self.customer, end_date=timezone.localdate() + timedelta(days=3))
            grant(self.manager, extra, RoleName.PROJECT_MANAGER)
            self.projects.append(extra)
        while len(self.offerings) < n:
            self.offerings.append(catalogue_offering(customer=self.provider))
        while len(self.members) < n:
            user = UserFactory()
            grant(user, self.project, RoleName.PROJECT_MEMBER)
            self.members.append(user)
        while len(self.resources) < n:
            number = len(self.resources)
            order = services.order_create(
                actor=None, attributes={"name": f"Run {number}"}, limits={"cpu_k_hours": 100}, **self.fields
            )
            if number % 3 == 1:  # some wait for a review, some erred, most done
                self.resources.append(order.resource)
                continue
            order = services.order_approve_by_provider(order=order, actor=None)
            if number % 3 == 2:
                order = services.order_set_state_erred(order=order, actor=None, error_message="failed")
            else:
                order = services.order_set_state_done(order=order, actor=None, backend_id=f"acct-{number}")
            self.resources.append(order.resource)
        while self.updates < n:  # the first resource's own orders and history
            self.updates += 1
            update = services.resource_update_limits(
                resource=self.resource, actor=None, limits={"cpu_k_hours": 100 + self.updates}
            )
            update = services.order_approve_by_provider(order=update, actor=None)
            services.order_set_state_done(order=update, actor=None)
        rows = [
            ComponentUsage(
                resource=resource,
                component_type="cpu_k_hours",
                billing_period=periods.add_months(today, -month),
                username=f"user{user}",
                usage=Decimal(3),
                reported_at=timezone.now(),
            )
            for resource in self.resources[:2]
            for month in range(n)
            for user in range(2)
        ]
        ComponentUsage.objects.bulk_create(rows, ignore_conflicts=True)

    def paths(self):
        return {
            path: path.format(
                offering=self.offering.uuid,
                resource=self.resource.uuid,
                order=self.order.uuid,
                project=self.project.uuid,
            )
            for path in PINNED
        }


@pytest.fixture
def world(customer, project, provider, manager):
    return World(customer=customer, project=project, provider=provider, manager=manager)


@pytest.mark.parametrize("who", ["manager", "staff"])
def test_every_page_asks_a_fixed_number_of_queries(request, world, django_assert_num_queries, who):
    client = Client()
    client.force_login(request.getfixturevalue(who))
    column = 0 if who == "manager" else 1
    for size in (SMALL, LARGE):
        world.grow_to(size)
        assert Resource.objects.count() == Project.objects.filter(customer=world.customer).count() == size
        assert ComponentUsage.objects.count() == 2 * 2 * size
        for path, url in world.paths().items():
            with django_assert_num_queries(PINNED[path][column]):
                response = client.get(url)
                if response.streaming:
                    b"".join(response.streaming_content)
            expected = {"/no-such-page/": 404, "/queues/": 403 if who == "manager" else 200}
            assert response.status_code == expected.get(path, 200), url
