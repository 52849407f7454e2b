import pytest
from rest_framework.test import APIClient

from federation import services
from federation.models import RoleName
from federation.models.roles import ensure_roles
from tests import slurm
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, grant
from tests.markers import postgresql_skip_reason, serialized_first


@pytest.hookimpl(trylast=True)  # after pytest-django has put the transactional tests after the others
def pytest_collection_modifyitems(items):
    items[:] = serialized_first(items)


def pytest_runtest_setup(item):
    """A test marked `postgresql` is skipped, with the reason, on any other database."""
    reason = postgresql_skip_reason(item)
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def slurm_cluster():
    """The single-node Slurm test cluster, started (or reused) with Slurm's commands pointed at it."""
    slurm.start_cluster()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLURM_CONF", str(slurm.STATE_DIR / "etc" / "slurm.conf"))
        yield slurm.CLUSTER


@pytest.fixture(autouse=True)
def _roles_exist(request):
    """Transactional tests flush every table, the migration's roles too; put them back for each test."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        names & {"transactional_db", "live_server"}
    )
    if transactional:
        request.getfixturevalue("transactional_db")
    elif marker or "db" in names:
        request.getfixturevalue("db")
    else:
        return
    ensure_roles()


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` authenticates with a real token issued by the service."""

    class Client(APIClient):
        def as_user(self, user):
            if user is None:
                self.credentials()
            else:
                self.credentials(HTTP_AUTHORIZATION=f"Token {services.token_issue(user=user)}")
            return self

    return Client()


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True)


@pytest.fixture
def support(db):
    return UserFactory(username="support", is_support=True)


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Acme University", abbreviation="ACME")


@pytest.fixture
def project(customer):
    return ProjectFactory(customer=customer, name="Climate models")


@pytest.fixture
def owner(customer):
    user = UserFactory(username="owner")
    grant(user, customer, RoleName.CUSTOMER_OWNER)
    return user


@pytest.fixture
def manager(project):
    user = UserFactory(username="manager")
    grant(user, project, RoleName.PROJECT_MANAGER)
    return user


@pytest.fixture
def member(project):
    user = UserFactory(username="member")
    grant(user, project, RoleName.PROJECT_MEMBER)
    return user


@pytest.fixture
def outsider(db):
    """A member of another customer."""
    other = CustomerFactory(name="Other Org")
    user = UserFactory(username="outsider")
    grant(user, other, RoleName.CUSTOMER_OWNER)
    return user
