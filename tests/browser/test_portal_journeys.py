"""Researchers' journeys through the portal in Debian's Chromium: the dashboard, a resource's usage
against its limit, what a plain member is (not) offered, a manager approving from the dashboard, a
manager adding and removing a member of the team, and the portal's 404 page.

Every page visited is checked with axe-core (no critical or serious violation) and at 390 px width
(the page is never wider than the viewport). Each journey saves a full-page screenshot to
`$FEDERATION_VAR_DIR/screenshots/<test name>.png` (var/test/screenshots/ under scripts/test.sh), kept
after the run as the test's artefact; the resource page is also saved at phone width (`…-390px.png`).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from accounting import periods
from accounting.models import ComponentUsage
from federation.models import RoleName
from marketplace import services
from marketplace.models import Order, OrderState, Resource
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, catalogue_offering, grant

from .pages import PHONE, check, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A lifetime allocation of 100 k-hours used 40, 0, 50 and 25 in the last four months: 115 %.
MONTHLY = ((3, 40), (2, 0), (1, 50), (0, 25))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    manager, member, admin = (UserFactory(username=name) for name in ("researcher", "plain-member", "project-admin"))
    project = ProjectFactory(customer=CustomerFactory(name="University of Example"), name="Climate models")
    grant(manager, project, RoleName.PROJECT_MANAGER)
    grant(member, project, RoleName.PROJECT_MEMBER)
    grant(admin, project, RoleName.PROJECT_ADMIN)
    offering = catalogue_offering(customer=CustomerFactory(name="Nordic Supercomputing Centre"), name="HPC allocation")
    plan = offering.plans.get()
    fields = dict(project=project, offering=offering, plan=plan, limits={"cpu_k_hours": 100, "storage_tb": 2})
    order = services.order_create(actor=None, attributes={"name": "Weather runs"}, **fields)
    order = services.order_approve_by_provider(order=order, actor=None)
    resource = services.order_set_state_done(order=order, actor=None, backend_id="acct-1").resource
    Resource.objects.filter(pk=resource.pk).update(created=timezone.now() - timedelta(days=100))
    this_month = timezone.localdate().replace(day=1)
    for back, amount in MONTHLY:
        ComponentUsage.objects.create(
            resource=resource,
            component_type="cpu_k_hours",
            billing_period=periods.add_months(this_month, -back),
            usage=Decimal(amount),
            reported_at=timezone.now(),
        )
    pending = services.order_create(actor=admin, attributes={"name": "Ocean runs"}, **fields)
    assert pending.state == OrderState.PENDING_CONSUMER
    return {"resource": resource, "pending": pending, "project": project}


def test_researcher_sees_the_dashboard_and_a_resource_against_its_limit(live_server, page, world, request):
    resource = world["resource"]
    log_in(page, live_server.url, "researcher")
    check(page, f"{live_server.url}/")
    attention = page.locator("section.attention")
    assert attention.get_by_text("Orders waiting for your approval").is_visible()
    assert "over the limit" in attention.inner_text()
    attention.get_by_role("link", name="Weather runs").click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/resources/{resource.uuid}/#usage")
    check(page, page.url.split("#")[0])
    usage = page.locator("section.usage").first
    assert "115 k-hours used since start" in usage.inner_text() and "115 %" in usage.inner_text()
    assert "over the limit" in usage.locator(".level").inner_text()
    assert usage.locator(".level").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(253, 232, 232)"
    chart = usage.locator("svg[role=img]")
    assert chart.locator("rect.bar").count() == len(MONTHLY) and chart.locator("line.limit").count() == 1
    # The limit line sits below the top of the running total (over the limit) and above the bars.
    limit_y = float(chart.locator("line.limit").get_attribute("y1"))
    points = [float(p.split(",")[1]) for p in chart.locator("polyline.running").get_attribute("points").split()]
    assert min(points) < limit_y < max(points)
    assert chart.get_attribute("aria-labelledby")
    usage.locator("summary").click()
    assert usage.locator("details table tbody tr").count() == len(MONTHLY)
    screenshot(page, request)
    page.set_viewport_size(PHONE)
    screenshot(page, request, suffix="-390px")


def test_a_plain_member_sees_no_action_they_cannot_take(live_server, page, world, request):
    resource, pending = world["resource"], world["pending"]
    log_in(page, live_server.url, "plain-member")
    check(page, f"{live_server.url}/")
    assert page.get_by_role("button", name="Approve").count() == 0
    check(page, f"{live_server.url}/resources/{resource.uuid}/")
    assert page.get_by_role("button", name="Order new limits").count() == 0
    assert page.get_by_role("link", name="Terminate this resource…").count() == 0
    assert "ordered by the project's managers and admins" in page.inner_text(".who-acts")
    check(page, f"{live_server.url}/orders/{pending.uuid}/")
    assert page.get_by_role("button").filter(has_text="Approve").count() == 0
    assert page.get_by_role("button", name="Cancel this order").count() == 0
    assert "Waiting for a manager of the project Climate models" in page.inner_text(".who-acts")
    offering = resource.offering
    check(page, f"{live_server.url}/catalogue/{offering.uuid}/")
    assert page.get_by_role("button", name="Place order").count() == 0
    assert "you are in no active project where you may order" in page.inner_text(".who-acts")
    for path in ("/resources/", "/orders/", "/catalogue/", f"/projects/{world['project'].uuid}/"):
        check(page, f"{live_server.url}{path}")
    screenshot(page, request)


def test_a_manager_approves_a_pending_order_from_the_dashboard(live_server, page, world, request):
    pending = world["pending"]
    log_in(page, live_server.url, "researcher")
    row = page.locator("section.attention tr", has_text="Ocean runs")
    row.get_by_role("button", name="Approve").click()
    page.wait_for_load_state("load")
    assert page.url == f"{live_server.url}/"
    assert "Order approved; it is now pending provider." in page.inner_text(".notice")
    assert Order.objects.get(pk=pending.pk).state == OrderState.PENDING_PROVIDER
    assert page.locator("section.attention tr", has_text="Ocean runs").count() == 0
    screenshot(page, request)
    check(page, f"{live_server.url}/orders/{pending.uuid}/")
    assert "Waiting for the provider, Nordic Supercomputing Centre, to approve." in page.inner_text(".who-acts")


def test_a_manager_adds_and_removes_a_member(live_server, page, world, request):
    project = world["project"]
    UserFactory(username="newcomer", full_name="Nora Newcomer", email="nora@example.org")
    log_in(page, live_server.url, "researcher")
    url = f"{live_server.url}/projects/{project.uuid}/"
    check(page, url)
    team = page.locator("section.team")
    assert team.locator("button[aria-label$='(Project member)']").count() == 1  # the plain member
    assert team.locator("button[aria-label$='(Project manager)']").count() == 0  # managers grant no managers
    team.get_by_label("E-mail address or CUID").fill("nobody@example.org")
    team.get_by_role("button", name="Add member").click()
    page.wait_for_load_state("load")
    assert "No account with the e-mail address or CUID nobody@example.org is known." in team.inner_text()
    last_day = timezone.localdate() + timedelta(days=90)
    team.get_by_label("E-mail address or CUID").fill("nora@example.org")
    team.get_by_label("Role").select_option(label="Project admin")
    team.get_by_label("Access ends after").fill(last_day.isoformat())
    team.get_by_role("button", name="Add member").click()
    page.wait_for_load_state("load")
    assert page.url == url
    assert "Nora Newcomer added as project admin." in page.inner_text(".notice")
    row = team.locator("tr", has_text="Nora Newcomer")
    assert "Project admin" in row.inner_text() and f"{last_day.day} {last_day:%b %Y}, 23:59" in row.inner_text()
    screenshot(page, request)  # with the notice, before `check` reloads the page
    check(page, url)
    team.get_by_role("button", name="Remove Nora Newcomer (Project admin)").click()
    page.wait_for_load_state("load")
    assert "Nora Newcomer removed (project admin)." in page.inner_text(".notice")
    assert team.locator("tr", has_text="Nora Newcomer").count() == 0
    # A plain member sees the list, without controls.
    page.context.clear_cookies()
    log_in(page, live_server.url, "plain-member")
    check(page, url)
    assert page.get_by_role("button", name="Add member").count() == 0
    assert page.locator("section.team").get_by_role("button").count() == 0


def test_an_unknown_page_is_the_portal_404_page(live_server, page, world, request):
    log_in(page, live_server.url, "researcher")
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert page.locator("link[rel=icon]").get_attribute("href") == "/static/federation/favicon.svg"
    assert page.request.get(f"{live_server.url}/favicon.ico").status == 200  # redirected to the static SVG
    bad = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("critical", "serious")]
    assert bad == []
    screenshot(page, request)


def test_a_resource_page_prints_its_charts_and_figures_without_the_controls(live_server, page, world, request):
    log_in(page, live_server.url, "researcher")
    page.goto(f"{live_server.url}/resources/{world['resource'].uuid}/")
    page.wait_for_load_state("load")
    figures = page.locator("section.usage details table").first
    assert not figures.is_visible()  # on screen the monthly figures wait behind "Monthly figures"
    page.emulate_media(media="print")
    assert figures.is_visible() and figures.locator("tbody tr").count() == len(MONTHLY)
    assert page.locator("section.usage svg[role=img]").first.is_visible()
    assert not page.locator("header nav").is_visible()
    assert not page.get_by_role("button", name="Order new limits").is_visible()
    screenshot(page, request, suffix="-print")
