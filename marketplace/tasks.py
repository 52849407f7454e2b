from celery import shared_task

from . import services


@shared_task(name="marketplace.tasks.terminate_expired_resources")
def terminate_expired_resources() -> int:
    """Daily: terminate orders for resources of projects past their end date."""
    return services.projects_terminate_expired()
