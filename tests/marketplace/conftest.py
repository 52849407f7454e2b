import pytest

from federation.models import RoleName
from marketplace import services
from marketplace.models import OrderState
from tests.factories import CustomerFactory, UserFactory, catalogue_offering, grant


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def provider(db):
    return CustomerFactory(name="HPC Centre", abbreviation="HPC")


@pytest.fixture
def provider_owner(provider):
    user = UserFactory(username="provider-owner")
    grant(user, provider, RoleName.CUSTOMER_OWNER)
    return user


@pytest.fixture
def project_admin(project):
    """May order, but not approve: their orders wait for the consumer's approval."""
    user = UserFactory(username="project-admin")
    grant(user, project, RoleName.PROJECT_ADMIN)
    return user


@pytest.fixture
def offering(provider):
    return catalogue_offering(customer=provider, name="HPC allocation")


@pytest.fixture
def plan(offering):
    return offering.plans.get()


@pytest.fixture
def place(project, offering, plan):
    """place(actor, **overrides) → a create order through the service."""

    def place(actor, **overrides):
        fields = dict(
            actor=actor,
            project=project,
            offering=offering,
            plan=plan,
            attributes={"name": "Allocation"},
            limits={"cpu_k_hours": 100, "storage_tb": 2},
        )
        fields.update(overrides)
        return services.order_create(**fields)

    return place


@pytest.fixture
def order_in(place, project_admin):
    """order_in(state) → a create order driven into `state` through the services (actor=None)."""

    def order_in(state, **overrides):
        order = place(project_admin, **overrides)
        assert order.state == OrderState.PENDING_CONSUMER
        path = {
            OrderState.PENDING_CONSUMER: [],
            OrderState.PENDING_PROVIDER: [services.order_approve_by_consumer],
            OrderState.EXECUTING: [services.order_approve_by_consumer, services.order_approve_by_provider],
            OrderState.DONE: [
                services.order_approve_by_consumer,
                services.order_approve_by_provider,
                lambda **kw: services.order_set_state_done(**kw, backend_id="backend-1"),
            ],
            OrderState.ERRED: [
                services.order_approve_by_consumer,
                services.order_approve_by_provider,
                lambda **kw: services.order_set_state_erred(**kw, error_message="boom"),
            ],
            OrderState.CANCELED: [services.order_cancel],
            OrderState.REJECTED: [services.order_reject_by_consumer],
        }[state]
        for step in path:
            order = step(order=order, actor=None)
        assert order.state == state
        return order

    return order_in


@pytest.fixture
def ok_resource(order_in):
    """A resource in state OK (its create order done)."""
    order = order_in(OrderState.DONE)
    return order.resource
