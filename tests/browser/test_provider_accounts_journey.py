"""Connecting one's account at a provider, in Chromium, with the reference site agent as its own process:
the portal's "Accounts at providers" page starts the connection, the browser goes on to the agent's own
confirmation page, the agent confirms the local username to the orchestrator (signed) and sends the browser
back, and the portal page shows the username.
"""

import pytest

from federation.models import RoleName
from marketplace.models import Resource, ResourceState
from providers.models import UserConnection
from tests.factories import UserFactory, grant
from tests.providers.stack import build_stack, stop_stack

from .pages import DESKTOP, check, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def stack(live_server, tmp_path):
    stack = build_stack(live_server, tmp_path)
    yield stack
    stop_stack(stack)


def test_a_researcher_connects_their_account_at_the_demo_provider(stack, page, request):
    researcher = UserFactory(username="researcher", full_name="Rita Researcher")
    grant(researcher, stack.project, RoleName.PROJECT_MEMBER)
    Resource.objects.create(
        name="Genome runs", slug="genome-runs", offering=stack.offering, project=stack.project, state=ResourceState.OK
    )
    base = stack.url
    accounts = f"{base}/accounts/providers/"

    log_in(page, base, "researcher")
    page.get_by_role("link", name="Accounts at providers").click()
    page.wait_for_load_state("load")
    assert page.url == accounts
    check(page, accounts)
    row = page.locator("tr", has_text="E2E site")
    assert "Not connected" in row.inner_text()

    # Connect: through the portal's forwarding page to the agent's own confirmation page.
    row.get_by_role("button", name="Connect your account at E2E site").click()
    page.wait_for_url(f"{stack.agent.url}/connect/**", timeout=15_000)
    assert page.get_by_role("heading", name="Connect your account").is_visible()
    assert "Connecting Rita Researcher" in page.inner_text("main")
    page.get_by_label("Local username").fill("rita")
    page.get_by_role("button", name="Connect").click()

    # The agent confirmed it to the orchestrator and sent the browser back to the portal page.
    page.wait_for_url(f"{accounts}?connected={stack.provider.slug}", timeout=15_000)
    assert "Your account at E2E site is connected as rita." in page.inner_text(".notice")
    row = page.locator("tr", has_text="E2E site")
    assert "Connected as rita" in " ".join(row.inner_text().split())
    assert row.get_by_role("button", name="Connect another account at E2E site").is_visible()
    connection = UserConnection.objects.get(user=researcher, provider=stack.provider, state="connected")
    assert connection.username == "rita" and connection.connected_at
    page.set_viewport_size(DESKTOP)
    screenshot(page, request)
    check(page, page.url)
