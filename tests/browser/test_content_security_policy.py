"""The Content-Security-Policy holds in a real browser: portal, admin and Swagger UI run without a violation."""

import pytest

from federation.models import RoleName
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, catalogue_offering, grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-pass-123"
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


@pytest.fixture
def watched(page):
    """The page, recording every CSP violation and every console error it reports."""
    page.add_init_script(RECORD_VIOLATIONS)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    return page


def visit(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "style-src 'self'" in policy, (url, policy)
    page.wait_for_load_state("load")
    return page.evaluate("window.__cspViolations")


def log_in(page, base, path, username):
    page.goto(f"{base}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state("load")


def test_portal_pages_keep_the_policy(live_server, watched):
    user = UserFactory(username="researcher")
    customer = CustomerFactory()
    project = ProjectFactory(customer=customer)
    grant(user, project, RoleName.PROJECT_MANAGER)
    offering = catalogue_offering(customer=customer)

    assert visit(watched, f"{live_server.url}/login/") == []
    log_in(watched, live_server.url, "/login/", "researcher")
    pages = ["/", f"/projects/{project.uuid}/", "/catalogue/", f"/catalogue/{offering.uuid}/", "/resources/"]
    pages.append("/orders/")
    for path in pages:
        assert visit(watched, f"{live_server.url}{path}") == [], path
        # The stylesheet applied: the header is the portal's dark blue, not the browser default.
        colour = watched.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
        assert colour == "rgb(29, 59, 92)", path
    assert watched.console_errors == []


def test_admin_keeps_the_policy(live_server, watched):
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    assert visit(watched, f"{live_server.url}/admin/login/") == []
    log_in(watched, live_server.url, "/admin/login/", "admin")
    for path in ["/admin/", "/admin/federation/customer/", "/admin/federation/customer/add/"]:
        assert visit(watched, f"{live_server.url}{path}") == [], path
    assert watched.console_errors == []


def test_swagger_ui_runs_under_the_policy(live_server, watched):
    assert visit(watched, f"{live_server.url}/api/docs/") == []
    # The UI's scripts ran: they fetched the schema and rendered its title and operations.
    watched.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Federation orchestrator API" in watched.inner_text(".swagger-ui .info .title")
    assert watched.locator(".opblock").count() > 10
    assert watched.evaluate("window.__cspViolations") == []
    assert watched.console_errors == []
