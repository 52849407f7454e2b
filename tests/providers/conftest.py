import dataclasses

import pytest

from federation.models import Project, RoleName, User
from tests.factories import ProjectFactory, Site, UserFactory, grant, make_provider


@dataclasses.dataclass(frozen=True)
class OrderingManager:
    """A project manager (orders without the consumer's review) and their project."""

    user: User
    project: Project


@pytest.fixture
def site(db) -> Site:
    return make_provider("site-a")


@pytest.fixture
def ordering_manager(db) -> OrderingManager:
    project = ProjectFactory(name="Physics")
    user = UserFactory(username="physics-pm")
    grant(user, project, RoleName.PROJECT_MANAGER)
    return OrderingManager(user=user, project=project)
