from celery import shared_task

from federation.ending import projects_announce_ended

from . import services


@shared_task(name="marketplace.tasks.terminate_expired_resources")
def terminate_expired_resources() -> int:
    """Daily: announce projects past their end date (once each), then terminate their resources."""
    projects_announce_ended()
    return services.projects_terminate_expired()


@shared_task(name="marketplace.tasks.announce_ending_resources")
def announce_ending_resources() -> int:
    """Daily: announce resources whose end date is near (once per configured warning)."""
    return services.resources_announce_ending()
