import dataclasses

import pytest

from events.models import Event
from federation.models import Customer, RoleName, User
from marketplace import services as marketplace
from marketplace.models import Offering, Order, Resource
from tests.factories import CustomerFactory, UserFactory, catalogue_offering, grant
from webhooks import services
from webhooks.models import Webhook

from .receiver import Receiver


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    """Receivers in the tests listen on 127.0.0.1; the URL tests empty the allow-list again."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.WEBHOOK_TIMEOUT = 2.0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclasses.dataclass(frozen=True)
class Provision:
    """A provider organisation with its owner and an offering; one order of the project, done, and its resource."""

    provider: Customer
    provider_owner: User
    offering: Offering
    order: Order
    resource: Resource


@pytest.fixture
def provision(project) -> Provision:
    provider = CustomerFactory(name="HPC Centre")
    provider_owner = UserFactory(username="provider-owner")
    grant(provider_owner, provider, RoleName.CUSTOMER_OWNER)
    offering = catalogue_offering(customer=provider, name="HPC allocation")
    order = marketplace.order_create(
        actor=None,
        project=project,
        offering=offering,
        plan=offering.plans.get(),
        attributes={"name": "Allocation"},
        limits={"cpu_k_hours": 10, "storage_tb": 1},
    )
    order = marketplace.order_approve_by_provider(order=order, actor=None)
    order = marketplace.order_set_state_done(order=order, actor=None, backend_id="acct-1")
    return Provision(provider, provider_owner, offering, order, order.resource)


@pytest.fixture
def hook_for():
    """hook_for(user, scope_type, scope_uuid, **fields) → a hook made through the service."""

    def hook_for(user, scope_type="", scope_uuid=None, **fields) -> Webhook:
        fields.setdefault("destination_url", "http://127.0.0.1:9/hook")
        return services.webhook_create(actor=user, scope_type=scope_type, scope_uuid=scope_uuid, **fields)

    return hook_for


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def new_events():
    """new_events() → the events not yet handed on, oldest first (what the dispatcher would hand on next)."""

    def new_events() -> list[Event]:
        return list(Event.objects.filter(dispatched_at__isnull=True).order_by("id"))

    return new_events
