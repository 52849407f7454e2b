from celery import shared_task

from . import ending, services


@shared_task(name="federation.tasks.deactivate_expired_roles")
def deactivate_expired_roles() -> int:
    return services.roles_deactivate_expired()


@shared_task(name="federation.tasks.announce_ending_projects")
def announce_ending_projects() -> int:
    """Daily: announce projects whose end date is near (once per configured warning)."""
    return ending.projects_announce_ending()
