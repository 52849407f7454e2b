"""End to end with real parts: the API on a live server, a Celery worker process (with beat) that hands
events on and sends deliveries, and a real HTTP receiver that checks every signature the documented way.

Subscribe through the API → place an order → a signed delivery arrives and verifies; the receiver down
for a while (503s, then refused connections) → delivered later, exactly once; down for good → the hook
is disabled, with the reason in GET /api/hooks-web/<uuid>/.
"""

import dataclasses

import pytest
import requests

from events.models import Event
from federation import services as structure
from federation.models import RoleName
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, catalogue_offering, grant
from tests.providers.harness import Worker, flush_broker, wait_for

from .receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CREATED = "marketplace_order_created"
WORKER_ENV = {
    "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "WEBHOOK_TIMEOUT": "2",
    "WEBHOOK_RETRY_BASE": "0.3",
    "WEBHOOK_RETRY_CAP": "0.6",
    "WEBHOOK_MAX_ATTEMPTS": "20",
    "WEBHOOK_DISABLE_AFTER": "8",
    "WEBHOOK_DELIVER_INTERVAL": "0.5",
    "EVENT_DISPATCH_INTERVAL": "0.5",
}


@dataclasses.dataclass
class Site:
    url: str
    worker: Worker
    receiver: Receiver
    project: object
    offering: object
    manager_token: str
    owner_token: str

    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Token {token or self.manager_token}"}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def subscribe(self, token: str, scope_type: str, scope_uuid) -> dict:
        answer = self.api(
            "POST",
            "/api/hooks-web/",
            token=token,
            json={
                "destination_url": self.receiver.url,
                "scope_type": scope_type,
                "scope_uuid": str(scope_uuid),
                "event_types": [CREATED],
            },
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    def order(self, name: str) -> str:
        offering = f"{self.url}/api/marketplace-public-offerings/{self.offering.uuid}/"
        answer = self.api(
            "POST",
            "/api/marketplace-orders/",
            json={
                "project": f"{self.url}/api/projects/{self.project.uuid}/",
                "offering": offering,
                "plan": f"{offering}plans/{self.offering.plans.get().uuid}/",
                "attributes": {"name": name},
                "limits": {"cpu_k_hours": 10, "storage_tb": 1},
            },
        )
        assert answer.status_code == 201, answer.text
        return Event.objects.get(event_type=CREATED, order_uuid=answer.json()["uuid"]).uuid.hex

    def delivery(self, hook: dict, event_uuid: str, token: str | None = None) -> dict | None:
        listed = self.api("GET", f"/api/hooks-web/{hook['uuid']}/deliveries/", token=token).json()
        return next((d for d in listed if d["event_uuid"].replace("-", "") == event_uuid), None)

    def wait(self, predicate, message: str, timeout: float = 20):
        try:
            return wait_for(predicate, timeout=timeout, interval=0.1, message=message)
        except AssertionError:
            raise AssertionError(f"{message}: timed out\nworker:\n{self.worker.log()}") from None


@pytest.fixture
def site(live_server, tmp_path):
    flush_broker()
    customer = CustomerFactory(name="Research Org")
    project = ProjectFactory(customer=customer, name="Genomics")
    owner, manager = UserFactory(username="org-owner"), UserFactory(username="pm")
    grant(owner, customer, RoleName.CUSTOMER_OWNER)
    grant(manager, project, RoleName.PROJECT_MANAGER)
    offering = catalogue_offering(customer=CustomerFactory(name="HPC Centre"), name="HPC allocation")
    receiver = Receiver()
    worker = Worker(tmp_path, extra_env=WORKER_ENV).start()
    yield Site(
        url=live_server.url,
        worker=worker,
        receiver=receiver,
        project=project,
        offering=offering,
        manager_token=structure.token_issue(user=manager),
        owner_token=structure.token_issue(user=owner),
    )
    worker.stop()
    receiver.close()


def test_a_signed_delivery_arrives_and_an_outage_is_bridged_exactly_once(site):
    receiver = site.receiver
    hook = site.subscribe(site.manager_token, "project", site.project.uuid)
    receiver.secret = hook.pop("secret")

    # 1. An order is placed: its event reaches the receiver, signed (checked the documented way).
    first = site.order("first")
    [got] = site.wait(lambda: receiver.accepted(), "the first delivery")
    assert got.webhook_id.replace("-", "") == first and got.verified and not got.repeat
    assert got.event["type"] == CREATED and got.event["data"]["project_uuid"] == str(site.project.uuid)
    assert site.wait(lambda: (site.delivery(hook, first) or {}).get("state") == "delivered", "delivered state")

    # 2. The receiver answers 503 for a while, then refuses connections, then comes back.
    receiver.mode = "unavailable"
    second = site.order("second")
    pending = site.wait(lambda: (d := site.delivery(hook, second)) and d["attempts"] >= 2 and d, "two failed attempts")
    assert (pending["state"], pending["last_status_code"]) == ("pending", 503)
    assert pending["last_error"].startswith("HTTP 503 Service Unavailable")
    receiver.stop()
    refused = site.wait(
        lambda: (d := site.delivery(hook, second)) and d["last_error"].startswith("ConnectionError") and d,
        "a refused connection",
    )
    assert refused["state"] == "pending" and refused["last_status_code"] is None
    receiver.start_again()
    site.wait(lambda: (site.delivery(hook, second) or {}).get("state") == "delivered", "the late delivery")
    delivered = site.delivery(hook, second)

    ids = [webhook_id.replace("-", "") for webhook_id in receiver.accepted_ids()]
    assert ids == [first, second]  # each accepted exactly once, none twice
    answered_503 = [r for r in receiver.received if r.webhook_id.replace("-", "") == second and r.answered == 503]
    assert delivered["attempts"] >= len(answered_503) + 2  # the 503s, refused connections, the success
    answer = site.api("GET", f"/api/hooks-web/{hook['uuid']}/").json()
    assert answer["is_active"] and answer["consecutive_failures"] == 0 and "secret" not in answer


def test_a_receiver_down_for_good_gets_the_hook_disabled(site):
    receiver = site.receiver
    hook = site.subscribe(site.owner_token, "customer", site.project.customer.uuid)
    receiver.secret = hook["secret"]
    receiver.mode = "unavailable"
    event = site.order("doomed")

    def disabled():
        answer = site.api("GET", f"/api/hooks-web/{hook['uuid']}/", token=site.owner_token).json()
        return None if answer["is_active"] else answer

    answer = site.wait(disabled, "the hook to be disabled")
    assert answer["disabled_reason"] == (
        "8 delivery attempts failed in a row; the last: "
        'HTTP 503 Service Unavailable: {"detail": "down for maintenance"}'
    )
    assert answer["consecutive_failures"] == 8
    delivery = site.delivery(hook, event, token=site.owner_token)
    assert (delivery["state"], delivery["attempts"]) == ("failed", 8)
    assert len(receiver.received) == 8 and receiver.accepted() == []
