"""Thin task: send the mail that is due (woken after notifications are written, and by beat).

When mail is still waiting for its digest window, the run asks for another run when the next
person becomes due; with a shared cache only one such run is queued at a time.
"""

import math

from celery import shared_task
from django.core.cache import cache

from common.wakeups import wake_done

from . import services

NEXT_RUN_KEY = "notifications:send-next-run"


@shared_task(name="notifications.send_due", acks_late=True)
def send_due() -> int:
    wake_done(services.SEND_WAKE_KEY)
    sent = services.notifications_send_due()
    delay = services.next_due_in()
    if delay is not None and cache.add(NEXT_RUN_KEY, 1, timeout=math.ceil(delay) + 1):
        send_due.apply_async(countdown=max(delay, 1.0))
    return sent
