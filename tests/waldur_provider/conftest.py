import dataclasses

import pytest

from federation.models import RoleName
from marketplace import services
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, agent_offering, grant
from tests.waldur_provider.agent import agent_venv


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def waldur_agent_venv():
    """waldur-site-agent 1.0.7 with its Slurm plugin, in a venv under FEDERATION_VAR_DIR (reused)."""
    return agent_venv()


class Site:
    """A provider organisation, its service account (an owner), an offering a Waldur agent serves and
    one create order for it from `project`, waiting for the provider."""

    def __init__(self, name: str, project, manager):
        self.customer = CustomerFactory(name=name, slug=name.lower())
        self.agent = UserFactory(username=f"{name.lower()}-agent")
        grant(self.agent, self.customer, RoleName.CUSTOMER_OWNER)
        self.offering = agent_offering(customer=self.customer, name=f"{name} HPC", auto_approve=False)
        self.order = services.order_create(
            actor=manager,
            project=project,
            offering=self.offering,
            plan=self.offering.plans.get(),
            attributes={"name": f"{name} allocation"},
            limits={"cpu": 10},
        )
        self.resource = self.order.resource


@dataclasses.dataclass
class Research:
    """The consumer: a project and its manager, who orders from every site."""

    project: object
    manager: object


@pytest.fixture
def research(db):
    project = ProjectFactory(name="Genomics", slug="genomics")
    manager = UserFactory(username="pm")
    grant(manager, project, RoleName.PROJECT_MANAGER)
    return Research(project, manager)


@pytest.fixture
def make_site(research):
    """make_site(name) → another provider with its agent, offering and pending order."""
    return lambda name: Site(name, research.project, research.manager)


@pytest.fixture
def site_a(make_site):
    return make_site("Alpha")


@pytest.fixture
def site_b(make_site):
    return make_site("Beta")
