"""A firing with `notify` mails the people of its scope (the `usage` kind); without it, nobody."""

import pytest

from events.models import Event
from federation.models import RoleName
from notifications.models import MailNotification
from notifications.services import notifications_from_events
from tests.factories import UserFactory, grant


@pytest.fixture
def provider_owner(offering):
    user = UserFactory(username="provider-owner")
    grant(user, offering.customer, RoleName.CUSTOMER_OWNER)
    return user


def _mailed() -> set[tuple[str, str]]:
    notifications_from_events(list(Event.objects.filter(event_type="policy_fired").order_by("id")))
    return set(MailNotification.objects.values_list("user__username", "kind"))


RECIPIENTS = [
    # scope of the policy, actions at 100 %, who gets a `usage` mail
    ("project", ["notify"], {"manager", "owner"}),
    ("customer", ["notify", "block_creation"], {"owner"}),
    ("offering", ["notify"], {"provider-owner"}),
    ("project", ["block_creation"], set()),  # fired and recorded, but nobody asked to be told
]


@pytest.mark.parametrize(("scope", "actions", "told"), RECIPIENTS)
def test_who_is_told_of_a_firing(
    project, customer, offering, resource, staff, owner, manager, member, provider_owner, report, add_policy,
    scope, actions, told,
):  # fmt: skip
    target = {"project": project, "customer": customer, "offering": offering}[scope]
    add_policy(staff, target, *actions)
    report(resource, 150)
    assert Event.objects.filter(event_type="policy_fired").count() == 1
    assert _mailed() == {(name, "usage") for name in told}


def test_the_mail_says_what_reached_what(project, resource, staff, manager, report, add_policy):
    add_policy(staff, project, "notify", "pause", limit=200)
    report(resource, 250)
    _mailed()
    mail = MailNotification.objects.get(user=manager)
    assert mail.subject == f"The usage of gpu_hours of project {project.name} reached 100% of its limit"
    assert "250" in mail.body and "200" in mail.body and "pause" in mail.body
    assert mail.url.endswith(f"/projects/{project.uuid}/") or str(project.uuid) in mail.url


def test_people_who_turned_usage_mail_off_are_not_told(project, resource, staff, manager, owner, report, add_policy):
    manager.notification_settings = {"usage": False}
    manager.save(update_fields=["notification_settings"])
    add_policy(staff, project, "notify")
    report(resource, 150)
    assert _mailed() == {("owner", "usage")}
