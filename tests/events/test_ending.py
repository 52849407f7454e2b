"""Ending announcements: once per configured warning, late rather than never, never twice; `project_ended` once."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from events.models import Event
from federation import ending
from federation.models import Project
from federation.tasks import announce_ending_projects
from marketplace import services as marketplace
from marketplace.models import Resource, ResourceState
from marketplace.tasks import announce_ending_resources, terminate_expired_resources
from tests.factories import ProjectFactory

TODAY = timezone.localdate()


def _ending(project) -> list[int]:
    events = Event.objects.filter(event_type="project_ending", project_uuid=project.uuid).order_by("id")
    return [event.context["days_left"] for event in events]


def _end_project(project, days: int) -> None:
    Project.objects.filter(id=project.id).update(end_date=TODAY + timedelta(days=days))


def _announce_each_day(days: range) -> None:
    """Run the daily announcement for each day in `days` (offsets from today), twice a day."""
    for offset in days:
        for _ in range(2):
            ending.projects_announce_ending(today=TODAY + timedelta(days=offset))


def test_a_project_is_announced_at_30_7_and_1_days_once_each(project):
    _end_project(project, 40)
    _announce_each_day(range(0, 45))
    assert _ending(project) == [30, 7, 1]


def test_a_missed_day_announces_late_not_never(project):
    _end_project(project, 20)  # first seen within 30 days: announced at once, for the 30-day warning
    _announce_each_day(range(0, 12))  # day 7 before the end is day 13: not run
    _announce_each_day(range(15, 21))
    assert _ending(project) == [20, 5, 1]


def test_the_warning_days_come_from_the_setting(project, settings):
    settings.PROJECT_END_WARNING_DAYS = [14, 3]
    _end_project(project, 20)
    _announce_each_day(range(0, 21))
    assert _ending(project) == [14, 3]


def test_no_warning_days_announces_nothing(project, settings):
    settings.PROJECT_END_WARNING_DAYS = []
    _end_project(project, 1)
    assert ending.projects_announce_ending() == 0


def test_an_end_date_moved_later_is_announced_again(project):
    _end_project(project, 7)
    assert ending.projects_announce_ending() == 1
    _end_project(project, 6)
    assert ending.projects_announce_ending() == 1
    assert ending.projects_announce_ending() == 0
    assert _ending(project) == [7, 6]


def test_inactive_projects_and_projects_without_end_date_are_not_announced(customer):
    ProjectFactory(customer=customer, end_date=TODAY + timedelta(days=1), is_active=False)
    ProjectFactory(customer=customer, end_date=None)
    assert ending.projects_announce_ending() == 0


def test_the_beat_task_announces_and_a_second_run_the_same_day_records_nothing(project):
    _end_project(project, 7)
    assert announce_ending_projects() == 1
    assert announce_ending_projects() == 0


def test_project_ended_is_recorded_once_by_the_daily_termination_task(project):
    _end_project(project, -1)
    terminate_expired_resources()
    terminate_expired_resources()
    ended = Event.objects.filter(event_type="project_ended", project_uuid=project.uuid)
    assert ended.count() == 1
    assert ended.get().context["end_date"] == (TODAY - timedelta(days=1)).isoformat()


def test_project_ended_looks_back_a_few_days_only(customer):
    late = ProjectFactory(customer=customer, end_date=TODAY - timedelta(days=ending.ENDED_LOOKBACK_DAYS))
    ProjectFactory(customer=customer, end_date=TODAY - timedelta(days=ending.ENDED_LOOKBACK_DAYS + 1))
    ProjectFactory(customer=customer, end_date=TODAY)  # ends today: not passed yet
    assert ending.projects_announce_ended() == 1
    assert Event.objects.get(event_type="project_ended").project_uuid == late.uuid


@pytest.fixture
def resource(world):
    order = marketplace.order_create(
        actor=world.manager,
        project=world.project,
        offering=world.offering,
        plan=world.plan,
        attributes={"name": "Allocation"},
        limits={"cpu_k_hours": 10, "storage_tb": 1},
    )
    marketplace.order_approve_by_provider(order=order.uuid, actor=None)
    return marketplace.order_set_state_done(order=order.uuid, actor=None).resource


def test_a_resource_is_announced_once_per_warning_by_its_beat_task(resource):
    Resource.objects.filter(id=resource.id).update(end_date=TODAY + timedelta(days=7))
    assert announce_ending_resources() == 1
    assert announce_ending_resources() == 0
    event = Event.objects.get(event_type="marketplace_resource_ending")
    assert (event.resource_uuid, event.context["days_left"]) == (resource.uuid, 7)


def test_a_terminated_resource_is_not_announced(resource):
    Resource.objects.filter(id=resource.id).update(end_date=TODAY + timedelta(days=1), state=ResourceState.TERMINATED)
    assert marketplace.resources_announce_ending() == 0


def test_the_daily_announcements_are_in_the_beat_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"federation.tasks.announce_ending_projects", "marketplace.tasks.announce_ending_resources"} <= tasks
    assert settings.PROJECT_END_WARNING_DAYS == [30, 7, 1]
