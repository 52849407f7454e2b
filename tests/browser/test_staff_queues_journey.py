"""Staff see the federation's queues in Chromium: counts and links for orders waiting on either side, erred
orders and resources, resources near or over a limit; a researcher is offered no such page."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounting.models import ComponentUsage
from federation.models import RoleName
from marketplace import services
from marketplace.models import OrderState
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, catalogue_offering, grant

from .pages import check, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def federation(db):
    """A project with a resource over its limit, an order waiting for the provider and an erred one."""
    researcher = UserFactory(username="researcher")
    project = ProjectFactory(customer=CustomerFactory(name="University of Example"), name="Climate models")
    grant(researcher, project, RoleName.PROJECT_MANAGER)
    UserFactory(username="operator", is_staff=True)
    offering = catalogue_offering(customer=CustomerFactory(name="Nordic Supercomputing Centre"), name="HPC allocation")
    fields = dict(project=project, offering=offering, plan=offering.plans.get(), limits={"cpu_k_hours": 100})

    def place(name):
        return services.order_create(actor=None, attributes={"name": name}, **fields)

    done = services.order_set_state_done(
        order=services.order_approve_by_provider(order=place("Weather runs"), actor=None), actor=None, backend_id="a-1"
    )
    ComponentUsage.objects.create(
        resource=done.resource,
        component_type="cpu_k_hours",
        billing_period=timezone.localdate().replace(day=1),
        usage=Decimal(115),
        reported_at=timezone.now(),
    )
    broken = services.order_set_state_erred(
        order=services.order_approve_by_provider(order=place("Broken runs"), actor=None),
        actor=None,
        error_message="Quota service unreachable",
    )
    waiting = place("Ocean runs")
    assert waiting.state == OrderState.PENDING_PROVIDER  # placed by the system: no project review
    return {"broken": broken, "waiting": waiting}


def test_staff_see_the_queues(live_server, page, federation, request):
    broken = federation["broken"]
    log_in(page, live_server.url, "operator")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queues").click()
    page.wait_for_load_state("load")
    url = f"{live_server.url}/queues/"
    assert page.url == url
    check(page, url)
    summary = page.get_by_role("navigation", name="Queues")
    assert summary.locator("[data-queue=pending-consumer]").inner_text() == "0"
    assert summary.locator("[data-queue=pending-provider]").inner_text() == "1"
    assert summary.locator("[data-queue=erred-orders]").inner_text() == "1"
    assert summary.locator("[data-queue=erred-resources]").inner_text() == "1"
    assert summary.locator("[data-queue=near-limit]").inner_text() == "1"
    erred = page.locator("section#erred-orders")
    assert "Quota service unreachable" in erred.inner_text()
    assert "over the limit" in page.locator("section#near-limit").inner_text()
    screenshot(page, request)
    erred.get_by_role("link", name="Create Broken runs").click()
    page.wait_for_load_state("load")
    assert page.url == f"{live_server.url}/orders/{broken.uuid}/"
    assert "Quota service unreachable" in page.inner_text("main")

    # A researcher has no queues: no link, and the address is refused.
    page.context.clear_cookies()
    log_in(page, live_server.url, "researcher")
    assert page.get_by_role("link", name="Queues").count() == 0
    assert page.goto(url).status == 403
