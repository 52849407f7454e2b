"""Every page of the portal, opened in Debian's Chromium as a researcher (a project manager), as staff
and, for the pages one sees before logging in, anonymously: each passes axe-core with no critical or
serious violation and is no wider than a phone at 390 px.

One browser and one login per role: the pages are visited in turn in one logged-in tab, and every
problem is collected before the test fails, so one run names all the pages that need fixing. A route of
the portal that is a page (answers GET with HTML) and is missing from PAGES fails the last test.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import URLPattern, resolve
from django.utils import timezone

from accounting import periods
from accounting.models import ComponentUsage
from federation.models import RoleName
from marketplace import services
from marketplace.models import OrderState
from tests.browser.audit import DESKTOP, problems
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, catalogue_offering, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-pass-123"

# (name of the route, path with {placeholders} filled from the world, expected status)
PAGES = [
    ("portal-home", "/", 200),
    ("portal-offerings", "/catalogue/", 200),
    ("portal-offering", "/catalogue/{offering}/", 200),
    ("portal-resources", "/resources/", 200),
    ("portal-resource", "/resources/{resource}/", 200),
    ("portal-resource", "/resources/{erred}/", 200),
    ("portal-resource-terminate", "/resources/{resource}/terminate/", 200),
    ("portal-orders", "/orders/", 200),
    ("portal-order", "/orders/{pending}/", 200),
    ("portal-order", "/orders/{done}/", 200),
    ("portal-project", "/projects/{project}/", 200),
    ("portal-notification-settings", "/settings/notifications/", 200),
    ("portal-provider-accounts", "/accounts/providers/", 200),
    (None, "/no-such-page/", 404),
]
STAFF_PAGES = [("portal-queues", "/queues/", 200)]  # refused (403) to everyone else
ANONYMOUS = [("portal-login", "/login/", 200), (None, "/no-such-page/", 404)]
# Routes that are not pages of their own: form targets (POST only), downloads, logging out.
NOT_PAGES = {
    "portal-project-member-add",
    "portal-project-member-remove",
    "portal-resource-limits",
    "portal-order-cancel",
    "portal-order-review",
    "portal-resources-csv",
    "portal-orders-csv",
    "portal-logout",
    "portal-provider-connect",
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _done(fields, name):
    order = services.order_create(actor=None, attributes={"name": name}, **fields)
    order = services.order_approve_by_provider(order=order, actor=None)
    return services.order_set_state_done(order=order, actor=None, backend_id=f"acct-{name.lower()}")


@pytest.fixture
def world(db):
    """A project ending soon with a resource over its limit, an erred one and an order waiting for its
    manager, so that every section of the dashboard and every state of the pages shows."""
    manager, admin = UserFactory(username="researcher"), UserFactory(username="project-admin")
    UserFactory(username="staff", is_staff=True)
    project = ProjectFactory(
        customer=CustomerFactory(name="University of Example"),
        name="Climate models",
        end_date=timezone.localdate() + timedelta(days=5),
    )
    grant(manager, project, RoleName.PROJECT_MANAGER)
    grant(admin, project, RoleName.PROJECT_ADMIN)
    offering = catalogue_offering(customer=CustomerFactory(name="Nordic Supercomputing Centre"), name="HPC allocation")
    fields = dict(project=project, offering=offering, plan=offering.plans.get(), limits={"cpu_k_hours": 100})
    done = _done(fields, "Weather runs")
    this_month = timezone.localdate().replace(day=1)
    for back, amount in ((2, 40), (1, 30), (0, 25)):
        ComponentUsage.objects.create(
            resource=done.resource,
            component_type="cpu_k_hours",
            billing_period=periods.add_months(this_month, -back),
            usage=Decimal(amount),
            reported_at=timezone.now(),
        )
    failed = services.order_create(actor=None, attributes={"name": "Broken runs"}, **fields)
    failed = services.order_approve_by_provider(order=failed, actor=None)
    erred = services.order_set_state_erred(
        order=failed, actor=None, error_message="Quota exceeded at the site"
    ).resource
    pending = services.order_create(actor=admin, attributes={"name": "Ocean runs"}, **fields)
    assert pending.state == OrderState.PENDING_CONSUMER
    return {
        "offering": offering.uuid,
        "resource": done.resource.uuid,
        "erred": erred.uuid,
        "pending": pending.uuid,
        "done": done.uuid,
        "project": project.uuid,
    }


def log_in(page, base, username):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state("load")
    assert not page.url.endswith("/login/"), f"{username} could not log in"


def visit_all(page, base, pages, world) -> dict:
    found = {}
    for _name, path, status in pages:
        url = base + path.format(**world)
        response = page.goto(url)
        page.wait_for_load_state("load")
        if response.status != status:
            found[path] = [("status", response.status, [])]
        elif bad := problems(page):
            found[path] = bad
    return found


@pytest.mark.parametrize("username", ["researcher", "staff"])
def test_every_page_passes_axe_and_fits_a_phone(live_server, page, world, username):
    log_in(page, live_server.url, username)
    page.goto(f"{live_server.url}/")
    headings = page.locator("section.attention h3").all_inner_texts()
    assert [h.split(" ")[0] for h in headings] == ["Orders", "Erred", "Resources", "Projects"]  # all states show
    assert visit_all(page, live_server.url, PAGES + (STAFF_PAGES if username == "staff" else []), world) == {}


def test_the_audit_finds_what_it_looks_for(page):
    page.set_viewport_size(DESKTOP)
    page.set_content(
        '<html lang="en"><title>t</title><main><img src="data:,">'
        '<div style="width: 600px">wide</div><button></button></main></html>'
    )
    found = {name for name, _impact, _targets in problems(page)}
    assert {"image-alt", "button-name", "wider-than-phone"} <= found


def test_the_pages_before_logging_in_pass_axe_and_fit_a_phone(live_server, page, world):
    assert visit_all(page, live_server.url, ANONYMOUS, world) == {}


@pytest.mark.urls("tests.marketplace.error_urls")
def test_the_error_pages_pass_axe_and_fit_a_phone(live_server, page, world, settings):
    settings.DEBUG = False
    log_in(page, live_server.url, "researcher")
    errors = [(None, "/forbidden/", 403), (None, "/no-such-page/", 404), (None, "/broken/", 500)]
    assert visit_all(page, live_server.url, errors, world) == {}
    # A form sent without its CSRF token (the cookie lost since the page was opened) gets the portal's page.
    page.goto(f"{live_server.url}/projects/{world['project']}/")
    page.context.clear_cookies(name="csrftoken")
    page.locator("section.team").get_by_label("E-mail address or CUID").fill("nora@example.org")
    with page.expect_response(lambda r: r.url.endswith("/members/add/")) as sent:
        page.locator("section.team").get_by_role("button", name="Add member").click()
    assert sent.value.status == 403
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="This form could not be accepted").is_visible()
    assert problems(page) == []


def test_every_page_of_the_portal_is_in_the_list(world):
    from portal import urls

    visited = {name for name, _path, _status in PAGES + STAFF_PAGES + ANONYMOUS if name}
    pages = {p.name for p in urls.urlpatterns if isinstance(p, URLPattern)} - NOT_PAGES
    assert pages - visited == set()
    for name, path, _status in PAGES + STAFF_PAGES + ANONYMOUS:  # each path is the route it is listed under
        if name:
            assert resolve(path.format(**world)).url_name == name
