"""Events are kept EVENT_RETENTION_DAYS and pruned by beat."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from config.celery import app
from events.models import Event
from events.services import event_record, events_prune
from events.tasks import prune_events


def _event_aged(project, days: float) -> Event:
    event = event_record("project_ending", scope=("project", project.uuid))
    Event.objects.filter(id=event.id).update(created=timezone.now() - timedelta(days=days))
    return event


def test_events_older_than_the_retention_are_pruned(project, settings):
    settings.EVENT_RETENTION_DAYS = 10
    kept = [_event_aged(project, days) for days in (0, 5, 9.9)]
    for days in (10.1, 30, 400):
        _event_aged(project, days)
    assert events_prune() == 3
    assert set(Event.objects.values_list("id", flat=True)) == {event.id for event in kept}
    assert events_prune() == 0


def test_the_retention_is_a_setting_and_the_beat_task_uses_it(project, settings):
    _event_aged(project, 364)
    _event_aged(project, 366)
    assert prune_events() == 1
    settings.EVENT_RETENTION_DAYS = 30
    assert prune_events() == 1
    assert not Event.objects.exists()


def test_beat_prunes_events():
    entry = settings.CELERY_BEAT_SCHEDULE["events-prune"]
    assert entry["task"] == "events.prune" == prune_events.name
    assert entry["task"] in app.tasks
    assert settings.EVENT_RETENTION_DAYS == 365
