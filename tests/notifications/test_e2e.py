"""End to end with real parts: an order waits for approval, the approver is mailed a portal link,
approves in the portal, the provider's site agent runs it, and its creator is mailed that it is done.

The orchestrator is the live server; the Celery worker (with beat) and the site agent are their own
processes; mail goes over SMTP to an aiosmtpd server this test runs and reads.
"""

import re

import pytest
import requests

from federation import services as structure
from federation.models import RoleName
from marketplace.models import Order, OrderState
from notifications.models import MailNotification
from tests.factories import UserFactory, grant
from tests.providers.harness import wait_for
from tests.providers.stack import build_stack, stop_stack

from .smtp import html_part, text_part

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's


@pytest.fixture
def stack(live_server, tmp_path, smtp, settings):
    # The live server speaks plain HTTP: let the session and CSRF cookies travel over it.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    worker_env = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "FEDERATION_URL": live_server.url,
        "NOTIFICATION_DIGEST_WINDOW": "1",
        "NOTIFICATION_SEND_INTERVAL": "1",
        "EVENT_DISPATCH_INTERVAL": "1",
    }
    stack = build_stack(live_server, tmp_path, worker_env=worker_env)
    yield stack
    stop_stack(stack)


def portal_session(base: str, next_url: str, username: str) -> tuple[requests.Session, requests.Response]:
    """Follow `next_url` as a browser would: to the login page, log in, and land on the page."""
    session = requests.Session()
    login_page = session.get(next_url, timeout=30)
    assert login_page.url.startswith(f"{base}/login/"), login_page.url
    answer = session.post(
        login_page.url,
        data={
            "username": username,
            "password": PASSWORD,
            "next": re.search(r'name="next" value="([^"]*)"', login_page.text).group(1),
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=30,
    )
    assert answer.status_code == 200 and answer.url == next_url, (answer.status_code, answer.url)
    return session, answer


def test_approval_in_the_portal_from_the_mail_and_the_done_mail(stack, smtp):
    creator = UserFactory(username="researcher")
    grant(creator, stack.project, RoleName.PROJECT_ADMIN)  # may order, may not approve
    manager, site_owner = "pm@example.org", "site-owner@example.org"
    base = stack.url
    placed = stack.api(
        "POST",
        "/api/marketplace-orders/",
        token=structure.token_issue(user=creator),
        json={
            "project": f"{base}/api/projects/{stack.project.uuid}/",
            "offering": f"{base}/api/marketplace-public-offerings/{stack.offering.uuid}/",
            "plan": f"{base}/api/marketplace-public-offerings/{stack.offering.uuid}/plans/{stack.plan.uuid}/",
            "attributes": {"name": "mailed-alloc"},
            "limits": {"cpu": 100},
        },
    )
    assert placed.status_code == 201, placed.text
    order_uuid = placed.json()["uuid"]
    assert placed.json()["state"] == OrderState.PENDING_CONSUMER

    # The project's manager is mailed once, with a link to the order's page in the portal.
    [mail] = smtp.wait_for_mails(manager, 1)
    link = f"{base}/orders/{order_uuid}/"
    assert mail["Subject"] == "Approval needed: create order for 'mailed-alloc' in Genomics"
    assert link in text_part(mail) and f'href="{link}"' in html_part(mail)
    assert smtp.mails_to(f"{creator.username}@example.org") == []

    # The link works: log in, see the order with its review buttons, approve.
    session, page = portal_session(base, link, "pm")
    assert "mailed-alloc" in page.text and 'name="decision" value="approve"' in page.text
    approved = session.post(
        f"{base}/orders/{order_uuid}/review/",
        data={"side": "consumer", "decision": "approve", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": link},
        timeout=30,
    )
    assert approved.status_code == 200 and approved.url == link
    assert "Order approved; it is now pending provider." in approved.text
    assert Order.objects.get(uuid=order_uuid).state == OrderState.PENDING_PROVIDER

    # Now the provider's owner is asked; they approve through the API and the agent runs the order.
    [asked] = smtp.wait_for_mails(site_owner, 1)
    assert link in text_part(asked) and "as the provider" in text_part(asked)
    stack.approve(order_uuid)
    done = stack.wait_final([order_uuid])[order_uuid]
    assert done.state == OrderState.DONE, done.error_message

    [outcome] = smtp.wait_for_mails(f"{creator.username}@example.org", 1)
    assert outcome["Subject"] == "Your create order for 'mailed-alloc' is done"
    assert link in text_part(outcome)

    # Exactly one mail each: every notification row is sent, and each went out once.
    wait_for(
        lambda: not MailNotification.objects.exclude(state="sent").exists(),
        timeout=30,
        message="every notification to be sent",
    )
    for address in (manager, site_owner, f"{creator.username}@example.org"):
        assert len(smtp.mails_to(address)) == 1, (address, [m["Subject"] for m in smtp.mails_to(address)])
    sent_ids = set(MailNotification.objects.values_list("message_id", flat=True))
    assert {m["Message-ID"] for m in smtp.received} == sent_ids and len(smtp.received) == 3
