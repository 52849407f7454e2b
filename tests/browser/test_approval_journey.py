"""The whole approval journey in Chromium, with every part real: a researcher orders in the portal from an
offering that needs approval, the project's manager is mailed (over SMTP, by the Celery worker) a link to
the order's page, opens it in the browser, logs in and approves; the worker delivers the order to the
reference site agent, which runs it on its local backend and reports it done; the usage the agent reports
is pulled and the resource's page shows it in its chart against the limit.

No step waits a fixed time: each polls its condition with a deadline.
"""

import re

import pytest

from accounting.models import ComponentUsage
from federation.models import RoleName
from marketplace.models import Offering, Order, OrderState, ResourceState
from tests.factories import UserFactory, grant
from tests.notifications.smtp import SmtpServer, html_part, text_part
from tests.providers.harness import wait_for
from tests.providers.stack import build_stack, stop_stack

from .pages import DESKTOP, PASSWORD, check, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIMIT = 400  # CPU hours; the agent's local backend reports 90 % of a limit as the month's usage
USAGE_FRACTION = 0.9


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def stack(live_server, tmp_path, smtp):
    worker_env = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "FEDERATION_URL": live_server.url,
        "NOTIFICATION_DIGEST_WINDOW": "1",
        "NOTIFICATION_SEND_INTERVAL": "1",
        "EVENT_DISPATCH_INTERVAL": "1",
    }
    stack = build_stack(live_server, tmp_path, worker_env=worker_env, backend={"usage_fraction": USAGE_FRACTION})
    # The project's manager approves; the provider takes what the project approved.
    Offering.objects.filter(pk=stack.offering.pk).update(auto_approve=True)
    yield stack
    stop_stack(stack)


def log_in_on(page, username):
    """Log in on the login page the browser is on, and follow `next` from there."""
    assert "/login/" in page.url, page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_load_state("load")


def test_an_order_approved_from_the_mail_runs_at_the_agent_and_its_usage_shows(stack, smtp, page, request):
    researcher = UserFactory(username="researcher", full_name="Rita Researcher")
    grant(researcher, stack.project, RoleName.PROJECT_ADMIN)  # may order; the order needs the manager
    base = stack.url
    page.set_viewport_size(DESKTOP)

    # The researcher orders in the portal.
    page.goto(f"{base}/catalogue/{stack.offering.uuid}/")
    log_in_on(page, "researcher")
    assert page.url == f"{base}/catalogue/{stack.offering.uuid}/"
    check(page, page.url)
    page.get_by_label("Name").fill("climate-runs")
    page.locator("input[name=limit_cpu]").fill(str(LIMIT))
    page.get_by_role("button", name="Place order").click()
    page.wait_for_load_state("load")
    order = Order.objects.get(resource__name="climate-runs")
    assert page.url.split("#")[0] == f"{base}/orders/{order.uuid}/"  # the form's #order rides the redirect
    assert order.state == OrderState.PENDING_CONSUMER and order.created_by == researcher
    assert "Waiting for a manager of the project Genomics" in page.inner_text(".who-acts")
    assert page.get_by_role("button", name="Approve").count() == 0

    # The manager is mailed a link to the order's page in the portal.
    [mail] = smtp.wait_for_mails("pm@example.org", 1)
    link = f"{base}/orders/{order.uuid}/"
    assert mail["Subject"] == "Approval needed: create order for 'climate-runs' in Genomics"
    assert f"Open in the portal: {link}" in text_part(mail) and f'href="{link}"' in html_part(mail)
    assert "/api/" not in text_part(mail)

    # The manager opens the link in the browser, logs in there, and lands on the order to approve.
    page.context.clear_cookies()
    page.goto(link)
    log_in_on(page, "pm")
    assert page.url == link
    check(page, link)
    assert page.get_by_label("Reason for rejecting").is_visible()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state("load")
    assert "Order approved; it is now executing." in page.inner_text(".notice")

    # The worker delivers it, the agent runs it and reports it done.
    done = stack.wait_final([str(order.uuid)])[str(order.uuid)]
    assert done.state == OrderState.DONE, done.error_message
    assert [line.split()[0] for line in stack.agent.journal()] == ["create"]
    resource = stack.resource(str(order.uuid))
    assert resource.state == ResourceState.OK and resource.backend_id

    # The agent's usage is pulled by the worker's schedule and lands against the resource.
    expected = LIMIT * USAGE_FRACTION
    wait_for(
        lambda: ComponentUsage.objects.filter(resource=resource, component_type="cpu", usage=expected).exists(),
        timeout=60,
        interval=0.2,
        message="the agent's usage to reach the orchestrator",
    )
    page.goto(link)
    assert page.locator("h1 .state").inner_text() == "Done"

    # The resource's page charts it against the limit: 360 of 400 hours, 90 %, near the limit.
    page.get_by_role("link", name="climate-runs").click()
    page.wait_for_load_state("load")
    assert page.url == f"{base}/resources/{resource.uuid}/"
    check(page, page.url)
    usage = page.locator("section.usage").first
    text = usage.inner_text()
    assert "90 %" in text and "near the limit" in usage.locator(".level").inner_text(), text
    chart = usage.locator("svg[role=img]")
    assert chart.locator("rect.bar").count() >= 1 and chart.locator("line.limit").count() == 1
    bar_top = float(chart.locator("rect.bar").last.get_attribute("y"))
    limit_y = float(chart.locator("line.limit").get_attribute("y1"))
    assert limit_y < bar_top  # the month's bar stays below the limit line (higher y is lower on screen)
    screenshot(page, request)
