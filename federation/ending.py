"""Announcing ends: a project (or resource) about to reach its end date, and a project past it.

Beat runs these daily. Each announcement is an event, and the event log is also the record of
what was announced, so a run repeated on the same day (or a beat run twice) records nothing new:

- `<x>_ending` is announced once per configured warning (PROJECT_END_WARNING_DAYS, "30,7,1"): once
  the end is at most that many days away, unless an announcement of the same end date already fell
  under that warning. A run missed for a day still announces, a day late; an end date moved later
  is announced afresh.
- `project_ended` is announced once per project and end date, for projects that ended within the
  last ENDED_LOOKBACK_DAYS days (so a beat that was down for a few days still announces, and
  projects that ended long before are not announced when this first runs).

The candidate rows are locked while a run decides, so two runs at once cannot both announce.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events.models import Event
from events.services import events_insert

from .models import Project
from .services import project_event

ENDED_LOOKBACK_DAYS = 7


def warning_of(days_left: int) -> int | None:
    """The warning an end `days_left` days away falls under: the smallest configured count at or above it."""
    fitting = [days for days in settings.PROJECT_END_WARNING_DAYS if days >= days_left]
    return min(fitting) if fitting else None


def ending_horizon(today: date) -> date | None:
    """The latest end date that any warning announces today (None when no warnings are configured)."""
    warnings = settings.PROJECT_END_WARNING_DAYS
    return today + timedelta(days=max(warnings)) if warnings else None


def endings_announced(event_type: str, kind: str, uuids: list) -> dict:
    """{uuid: [(end_date, days_left), ...]} of the `event_type` events already recorded for these objects."""
    announced = defaultdict(list)
    if uuids:
        rows = Event.objects.filter(event_type=event_type, **{f"{kind}_uuid__in": uuids}).values_list(
            f"{kind}_uuid", "context__end_date", "context__days_left"
        )
        for uuid, end_date, days_left in rows:
            announced[uuid].append((end_date, days_left))
    return announced


def ending_due(*, end_date: date, today: date, announced: list) -> int | None:
    """The days left, when the end at `end_date` is due to be announced today; else None."""
    days_left = (end_date - today).days
    warning = warning_of(days_left)
    if warning is None:
        return None
    earlier = [left for end, left in announced if end == end_date.isoformat() and isinstance(left, int)]
    if any(warning_of(left) == warning for left in earlier):
        return None
    return days_left


def projects_announce_ending(*, today: date | None = None) -> int:
    """Record `project_ending` for active projects whose end date is near; returns how many."""
    today = today or timezone.localdate()
    horizon = ending_horizon(today)
    if horizon is None:
        return 0
    with transaction.atomic():
        projects = list(
            Project.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(is_active=True, end_date__gte=today, end_date__lte=horizon)
            .order_by("id")
        )
        announced = endings_announced("project_ending", "project", [p.uuid for p in projects])
        events = []
        for project in projects:
            days_left = ending_due(end_date=project.end_date, today=today, announced=announced[project.uuid])
            if days_left is not None:
                events.append(project_event("project_ending", project, days_left=days_left))
        events_insert(events)
    return len(events)


def projects_announce_ended(*, today: date | None = None) -> int:
    """Record `project_ended` once for each project whose end date has passed; returns how many."""
    today = today or timezone.localdate()
    with transaction.atomic():
        projects = list(
            Project.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(end_date__lt=today, end_date__gte=today - timedelta(days=ENDED_LOOKBACK_DAYS))
            .order_by("id")
        )
        announced = endings_announced("project_ended", "project", [p.uuid for p in projects])
        events = [
            project_event("project_ended", project)
            for project in projects
            if project.end_date.isoformat() not in {end for end, _ in announced[project.uuid]}
        ]
        events_insert(events)
    return len(events)
