from celery import shared_task

from . import services


@shared_task(name="federation.tasks.deactivate_expired_roles")
def deactivate_expired_roles() -> int:
    return services.roles_deactivate_expired()
