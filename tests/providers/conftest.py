import pytest

from federation.models import RoleName
from marketplace.models import Offering, OfferingComponent, Plan
from protocol.keys import generate_private_key, jwks, public_jwk
from providers.models import Provider, ProviderOffering
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, grant
from tests.site_agent.test_slurm_backend import slurm_cluster  # noqa: F401  (the test cluster, for the Slurm e2e tests)


class SiteKeys:
    def __init__(self, slug: str):
        self.slug = slug
        self.kid = f"{slug}-1"
        self.key = generate_private_key()

    @property
    def jwks(self) -> dict:
        return jwks(public_jwk(self.key, self.kid))


def make_provider(slug: str, *, domain: str = "127.0.0.1:9") -> tuple[Provider, SiteKeys, Offering]:
    keys = SiteKeys(slug)
    org = CustomerFactory(name=f"{slug} org")
    provider = Provider.objects.create(
        slug=slug, name=slug, domain=domain, https=False, env="test", customer=org, jwks=keys.jwks
    )
    offering = Offering.objects.create(
        name=f"{slug} HPC", customer=org, type="site-agent", state="Active", auto_approve=True
    )
    OfferingComponent.objects.create(
        offering=offering, type="cpu", name="CPU", billing_type="limit", min_value=1, max_value=1000
    )
    Plan.objects.create(offering=offering, name="Default")
    ProviderOffering.objects.create(offering=offering, provider=provider)
    return provider, keys, offering


@pytest.fixture
def site(db):
    return make_provider("site-a")


@pytest.fixture
def ordering_manager(db):
    project = ProjectFactory(name="Physics")
    user = UserFactory(username="physics-pm")
    grant(user, project, RoleName.PROJECT_MANAGER)
    return user, project
