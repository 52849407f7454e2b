"""The people of the events tests' world, and how a test asks whether one of them sees an event."""

import dataclasses

from events.models import Event
from federation.models import Customer, Project, User
from marketplace.models import Offering, Plan
from providers.models import Provider

# Who looks at the event log in the visibility matrix (anonymous is asked separately).
VIEWERS = ("staff", "support", "owner", "manager", "member", "provider_owner", "outsider")
MANIFEST = {"provider_id": "hpc-site", "features": {}, "components": ["cpu_k_hours"]}


@dataclasses.dataclass
class World:
    """A consumer organisation with a project and its people, and a provider organisation with an
    offering (reviewed by hand on both sides) and a registered provider."""

    customer: Customer
    project: Project
    staff: User
    support: User
    owner: User
    manager: User
    member: User
    project_admin: User
    provider_org: Customer
    provider_owner: User
    outsider: User
    offering: Offering
    plan: Plan
    provider: Provider

    def viewer(self, name: str) -> User:
        return getattr(self, name)


def seen_by(api, user, event: Event) -> bool:
    """Whether `user` finds the event in GET /api/events/ (filtered by its type, so one page is enough)."""
    response = api.as_user(user).get("/api/events/", {"event_type": event.event_type, "page_size": 200})
    assert response.status_code == 200, response.content
    return str(event.uuid) in {row["uuid"] for row in response.json()}
