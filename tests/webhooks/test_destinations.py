"""Hooks send only over http(s) to public addresses, unless the host is in WEBHOOK_ALLOWED_HOSTS; the
address is checked when the hook is made and again on every connection."""

import pytest

from webhooks import services
from webhooks.destinations import destination_problem, is_internal
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_allow_list(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []


INTERNAL = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10:8080/hook",
    "http://localhost:8000/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://100.64.0.1/hook",
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://0.0.0.0/hook",
    "http://240.0.0.1/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as one number
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_without_the_allow_list(no_allow_list, url):
    problem = destination_problem(url)
    assert problem and "internal address" in problem


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.216.34/hook", "Only http and https URLs are accepted."),
        ("file:///etc/passwd", "Only http and https URLs are accepted."),
        ("http:///hook", "The URL has no host."),
        ("http://no-such-host.invalid/hook", "The host no-such-host.invalid does not resolve."),
        ("http://93.184.216.34:99999/hook", "Not a valid URL: Port out of range 0-65535."),
    ],
)
def test_other_bad_urls(no_allow_list, url, message):
    assert destination_problem(url) == message


@pytest.mark.parametrize("url", ["http://93.184.216.34/hook", "https://[2606:2800:220:1::]:8443/hook"])
def test_public_addresses_are_accepted(no_allow_list, url):
    assert destination_problem(url) is None


def test_the_allow_list_exempts_its_hosts_only(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "Receiver.Internal"]
    assert destination_problem("http://127.0.0.1:8000/hook") is None
    assert destination_problem("http://receiver.internal./hook") is None  # without resolving it
    assert "internal address" in destination_problem("http://10.0.0.1/hook")
    assert "internal address" in destination_problem("http://localhost/hook")


def test_the_api_refuses_an_internal_url_naming_the_field(api, no_allow_list, owner, customer):
    body = {"destination_url": "http://169.254.169.254/", "scope_type": "customer", "scope_uuid": str(customer.uuid)}
    response = api.as_user(owner).post("/api/hooks-web/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "destination_url": [
            "The host 169.254.169.254 resolves to an internal address (169.254.169.254); "
            "hooks send only to public ones."
        ]
    }
    assert not Webhook.objects.exists()


def test_is_internal_reads_scoped_and_mapped_addresses():
    assert is_internal("fe80::1%eth0") and is_internal("::ffff:10.0.0.1")
    assert not is_internal("8.8.8.8") and not is_internal("2001:4860:4860::8888")


def test_the_address_is_checked_again_when_sending(settings, owner, customer, provision, receiver, new_events):
    """A hook made while its host was allowed (or resolved elsewhere) sends nothing to an internal address
    later: the connected socket's address is checked, and the hook disabled with the reason."""
    hooks = [
        services.webhook_create(
            actor=owner,
            destination_url=receiver.url,
            scope_type="customer",
            scope_uuid=customer.uuid,
            event_types=["marketplace_order_completed"],
        )
        for _ in range(2)
    ]
    assert services.deliveries_queue(new_events()) == 2
    settings.WEBHOOK_ALLOWED_HOSTS = []
    assert services.deliveries_send_due() == 0
    assert receiver.received == []
    for hook in hooks:
        hook.refresh_from_db()
        assert not hook.is_active
        assert hook.disabled_reason == "The host 127.0.0.1 now resolves to an internal address (127.0.0.1)."
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"failed"}
