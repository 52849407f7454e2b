"""Who is told what: one row per (person, event), decided when the event is handed on."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.services import event_record
from federation.models import RoleName
from marketplace import services
from notifications.models import MailNotification
from tests.factories import ProjectFactory, UserFactory, grant

pytestmark = pytest.mark.django_db


def rows(**filters) -> list[tuple[str, str, str]]:
    """(username, event_type, kind) of every notification row, sorted."""
    return sorted(
        MailNotification.objects.filter(**filters).values_list("user__username", "event_type", "kind").order_by()
    )


def test_an_order_waiting_for_the_consumer_asks_its_managers_and_owners(people, dispatch):
    order = people.place()
    dispatch()
    assert rows() == [
        ("manager", "marketplace_order_created", "approvals"),
        ("owner", "marketplace_order_created", "approvals"),
    ]
    row = MailNotification.objects.get(user=people.manager)
    assert row.url == f"https://portal.example.org/orders/{order.uuid}/"
    assert row.subject == "Approval needed: create order for 'Allocation' in Climate models"
    assert "admin placed" in row.body.replace(str(people.admin), "admin") and "as a manager of the project" in row.body
    assert row.state == MailNotification.State.PENDING and row.attempts == 0


def test_an_order_waiting_for_the_provider_asks_the_provider_owners(people, dispatch):
    order = people.place()
    dispatch()
    services.order_approve_by_consumer(order=order, actor=people.manager)
    dispatch()
    assert rows(event_type="marketplace_order_approved") == [
        ("provider-owner", "marketplace_order_approved", "approvals")
    ]
    row = MailNotification.objects.get(user=people.provider_owner)
    assert "as the provider (HPC allocation)" in row.body and row.url.endswith(f"/orders/{order.uuid}/")


def test_an_order_that_no_longer_waits_asks_nobody(people, dispatch):
    people.place(actor=people.manager)  # approved for the consumer in the same transaction
    dispatch()
    assert rows() == [("provider-owner", "marketplace_order_approved", "approvals")]


def test_an_order_approved_before_its_event_is_handed_on_asks_nobody_on_the_consumer_side(people, dispatch):
    order = people.place()
    services.order_approve_by_consumer(order=order, actor=people.owner)
    dispatch()
    assert rows() == [("provider-owner", "marketplace_order_approved", "approvals")]


@pytest.mark.parametrize(
    ("finish", "event_type", "subject", "reason"),
    [
        (
            lambda o, p: services.order_set_state_done(order=o, actor=None, backend_id="b-1"),
            "marketplace_order_completed",
            "Your create order for 'Allocation' is done",
            None,
        ),
        (
            lambda o, p: services.order_set_state_erred(order=o, actor=None, error_message="Quota exceeded at site"),
            "marketplace_order_failed",
            "Your create order for 'Allocation' erred",
            "Quota exceeded at site",
        ),
    ],
)
def test_the_creator_hears_the_outcome(people, dispatch, finish, event_type, subject, reason):
    order = people.place()
    services.order_approve_by_consumer(order=order, actor=people.manager)
    services.order_approve_by_provider(order=order, actor=people.provider_owner)
    dispatch()
    MailNotification.objects.all().delete()
    finish(order, people)
    dispatch()
    assert rows() == [("admin", event_type, "order_outcomes")]
    row = MailNotification.objects.get()
    assert row.subject == subject and row.url.endswith(f"/orders/{order.uuid}/")
    if reason:
        assert reason in row.body


@pytest.mark.parametrize("side", ["consumer", "provider"])
def test_a_rejection_names_who_rejected_and_for_which_side(people, dispatch, side):
    order = people.place()
    if side == "consumer":
        services.order_reject_by_consumer(order=order, actor=people.manager)
        expected = f"Rejected by {people.manager.username} for the project (Climate models)."
    else:
        services.order_approve_by_consumer(order=order, actor=people.manager)
        services.order_reject_by_provider(order=order, actor=people.provider_owner)
        expected = f"Rejected by {people.provider_owner.username} for the provider (HPC Centre)."
    dispatch()
    row = MailNotification.objects.get(event_type="marketplace_order_rejected")
    assert row.user == people.admin and row.subject == "Your create order for 'Allocation' was rejected"
    assert expected in row.body


def test_canceling_ones_own_order_tells_nobody(people, dispatch):
    order = people.place()
    dispatch()
    MailNotification.objects.all().delete()
    services.order_cancel(order=order, actor=people.admin)
    dispatch()
    assert rows() == []


def test_preferences_are_respected_when_the_event_is_handed_on(people, dispatch):
    people.manager.notification_settings = {"approvals": False}
    people.manager.save()
    people.place()
    dispatch()
    assert rows() == [("owner", "marketplace_order_created", "approvals")]


def test_people_without_an_address_or_inactive_are_skipped(people, dispatch):
    people.manager.email = ""
    people.manager.save()
    people.owner.is_active = False
    people.owner.save()
    people.place()
    dispatch()
    assert rows() == []


def test_staff_who_asked_get_a_marked_copy(people, dispatch):
    copier = UserFactory(username="staff-copier", is_staff=True, notification_settings={"staff_copy": True})
    UserFactory(username="staff-quiet", is_staff=True)
    UserFactory(username="not-staff", notification_settings={"staff_copy": True})
    people.place()
    dispatch()
    assert rows(kind="staff_copy") == [("staff-copier", "marketplace_order_created", "staff_copy")]
    copy = MailNotification.objects.get(user=copier)
    original = MailNotification.objects.get(user=people.manager)
    assert copy.subject == f"[copy] {original.subject}" and copy.url == original.url
    assert copy.body.startswith("A copy of the notification sent to: manager, owner.")


def test_a_staff_member_told_directly_gets_no_second_copy(people, dispatch):
    people.manager.is_staff = True
    people.manager.notification_settings = {"staff_copy": True}
    people.manager.save()
    people.place()
    dispatch()
    assert rows(user=people.manager) == [("manager", "marketplace_order_created", "approvals")]


@pytest.mark.parametrize(
    ("event_type", "subject"),
    [
        ("role_granted", "You were given the role project member in project Climate models"),
        ("role_revoked", "Your role project member in project Climate models was removed"),
        ("role_expired", "Your role project member in project Climate models expired"),
    ],
)
def test_members_hear_of_their_roles(people, project, dispatch, event_type, subject):
    newcomer = UserFactory(username="newcomer")
    event_record(
        event_type,
        scope=("project", project.uuid),
        actor=None if event_type == "role_expired" else people.manager,
        customer=project.customer.uuid,
        context={
            "role": RoleName.PROJECT_MEMBER.value,
            "user_uuid": str(newcomer.uuid),
            "username": newcomer.username,
            "project_name": project.name,
            "customer_name": project.customer.name,
            "expiration_time": "2030-01-31T12:00:00+00:00",
        },
    )
    dispatch()
    assert rows() == [("newcomer", event_type, "membership")]
    row = MailNotification.objects.get()
    assert row.subject == subject
    if event_type == "role_granted":
        assert row.url == f"https://portal.example.org/projects/{project.uuid}/"
        assert f"by {people.manager.username}" in row.body and "lasts until 2030-01-31 12:00 UTC" in row.body


def test_nobody_is_told_of_what_they_did_themselves(people, project, dispatch):
    event_record(
        "role_granted",
        scope=("project", project.uuid),
        actor=people.manager,
        context={"role": "PROJECT.ADMIN", "user_uuid": str(people.manager.uuid), "project_name": project.name},
    )
    dispatch()
    assert rows() == []


def test_managers_hear_that_a_project_or_resource_ends(people, project, customer, dispatch):
    other_project = ProjectFactory(customer=customer, name="Other")
    grant(UserFactory(username="other-manager"), other_project, RoleName.PROJECT_MANAGER)
    context = {"project_name": project.name, "customer_name": customer.name, "end_date": "2030-01-31"}
    event_record("project_ending", scope=("project", project.uuid), context={**context, "days_left": 7})
    event_record("project_ended", scope=("project", project.uuid), context=context)
    order = people.place(actor=people.manager)
    resource = order.resource
    dispatch()
    MailNotification.objects.all().delete()
    # A resource event that names no project is completed from the resource.
    event_record(
        "marketplace_resource_ending",
        scope=("resource", resource.uuid),
        context={"resource_name": resource.name, "end_date": str(date(2030, 1, 31)), "days_left": 1},
    )
    dispatch()
    assert rows() == [("manager", "marketplace_resource_ending", "ending")]
    row = MailNotification.objects.get()
    assert row.subject == "Resource Allocation ends in 1 day"
    assert row.url == f"https://portal.example.org/resources/{resource.uuid}/"


def test_project_ending_subjects(people, project, customer, dispatch):
    context = {"project_name": project.name, "customer_name": customer.name, "end_date": "2030-01-31"}
    event_record("project_ending", scope=("project", project.uuid), context={**context, "days_left": 30})
    event_record("project_ended", scope=("project", project.uuid), context=context)
    dispatch()
    subjects = sorted(MailNotification.objects.filter(user=people.manager).values_list("subject", flat=True))
    assert subjects == ["Project Climate models ends in 30 days", "Project Climate models has ended"]
    assert rows(user=people.owner) == []  # managers, not owners


def test_handing_on_twice_writes_no_second_row(people, dispatch):
    from notifications.services import notifications_from_events

    people.place()
    dispatch()
    from events.models import Event

    events = list(Event.objects.all())
    notifications_from_events(events)  # as if a crashed dispatcher handed the same events on again
    assert MailNotification.objects.count() == 2


def test_a_batch_takes_the_same_queries_for_2_or_12_orders(people, customer, dispatch):
    """Orders, grants, people and staff are each read once per batch, whatever its size."""
    from events.models import Event
    from notifications.services import notifications_from_events

    def queries_for(count: int) -> int:
        Event.objects.all().delete()
        for n in range(count):
            project = ProjectFactory(customer=customer)
            grant(UserFactory(), project, RoleName.PROJECT_MANAGER)
            admin = UserFactory()
            grant(admin, project, RoleName.PROJECT_ADMIN)
            services.order_create(
                actor=admin,
                project=project,
                offering=people.offering,
                plan=people.offering.plans.get(),
                attributes={"name": f"alloc-{n}"},
                limits={"cpu_k_hours": 1},
            )
        events = list(Event.objects.all())
        with CaptureQueriesContext(connection) as captured:
            notifications_from_events(events)
        return len(captured)

    assert queries_for(2) == queries_for(12) == 4  # orders, grants, staff copies, one insert


# --- through the services that record the events ---------------------------------------------------


def test_granting_and_revoking_a_role_tells_the_person(people, project, dispatch):
    from federation import services as structure
    from federation.models import Role

    newcomer = UserFactory(username="newcomer")
    role = Role.objects.get(name=RoleName.PROJECT_MEMBER)
    structure.role_grant(actor=people.manager, scope=project, user=newcomer, role=role)
    structure.role_revoke(actor=people.manager, scope=project, user=newcomer, role=role)
    dispatch()
    assert rows() == [("newcomer", "role_granted", "membership"), ("newcomer", "role_revoked", "membership")]
    granted = MailNotification.objects.get(event_type="role_granted")
    assert granted.subject == "You were given the role project member in project Climate models"
    assert granted.url == f"https://portal.example.org/projects/{project.uuid}/"


def test_announcing_a_near_end_tells_the_managers(people, project, dispatch):
    from datetime import timedelta

    from django.utils import timezone

    from federation.ending import projects_announce_ending

    project.end_date = timezone.localdate() + timedelta(days=7)
    project.save()
    assert projects_announce_ending() == 1
    dispatch()
    assert rows() == [("manager", "project_ending", "ending")]
    row = MailNotification.objects.get()
    assert row.subject == "Project Climate models ends in 7 days"
    assert project.end_date.isoformat() in row.body


def test_managers_hear_that_a_resource_was_terminated_but_not_who_terminated_it(people, project, customer, dispatch):
    other_manager = UserFactory(username="second-manager", email="second@example.org")
    grant(other_manager, project, RoleName.PROJECT_MANAGER)
    resource = people.place(actor=people.manager).resource
    dispatch()
    MailNotification.objects.all().delete()
    event_record(
        "marketplace_resource_terminate_succeeded",
        scope=("resource", resource.uuid),
        actor=people.manager,
        project=project.uuid,
        context={"resource_name": resource.name},
    )
    dispatch()
    assert rows() == [("second-manager", "marketplace_resource_terminate_succeeded", "ending")]
    row = MailNotification.objects.get()
    assert row.subject == f"Resource {resource.name} has been terminated"
    assert row.url.endswith(f"/resources/{resource.uuid}/")
