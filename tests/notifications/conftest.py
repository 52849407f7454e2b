"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mail tests, and the people an order concerns."""

from __future__ import annotations

import dataclasses

import pytest

from events.services import events_dispatch
from federation.models import RoleName, User
from marketplace import services
from tests.factories import CustomerFactory, UserFactory, catalogue_offering, grant

from .smtp import SmtpServer


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def notification_settings(settings):
    settings.FEDERATION_URL = "https://portal.example.org"
    settings.NOTIFICATION_DIGEST_WINDOW = 60
    settings.NOTIFICATION_RETRY_BASE = 30
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def dispatch():
    """Hand every new event on (the dispatcher's work, in the test's transaction)."""
    return events_dispatch


@dataclasses.dataclass(frozen=True)
class OrderPeople:
    """Everyone an order of `project` for `offering` concerns, by role."""

    admin: User  # orders; needs approval
    manager: User
    owner: User
    provider_owner: User
    member: User
    offering: object
    project: object

    def place(self, actor=None, name: str = "Allocation"):
        return services.order_create(
            actor=actor or self.admin,
            project=self.project,
            offering=self.offering,
            plan=self.offering.plans.get(),
            attributes={"name": name},
            limits={"cpu_k_hours": 100, "storage_tb": 2},
        )


@pytest.fixture
def people(project, customer) -> OrderPeople:
    provider = CustomerFactory(name="HPC Centre")
    roles = {
        "admin": (project, RoleName.PROJECT_ADMIN),
        "manager": (project, RoleName.PROJECT_MANAGER),
        "owner": (customer, RoleName.CUSTOMER_OWNER),
        "provider_owner": (provider, RoleName.CUSTOMER_OWNER),
        "member": (project, RoleName.PROJECT_MEMBER),
    }
    users = {}
    for name, (scope, role) in roles.items():
        users[name] = UserFactory(username=name.replace("_", "-"))
        grant(users[name], scope, role)
    offering = catalogue_offering(customer=provider, name="HPC allocation")
    return OrderPeople(offering=offering, project=project, **users)
