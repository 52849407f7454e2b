"""Waking a Celery task after the transaction that gave it work commits.

With a shared cache (Redis), one queued run per key is enough: the task deletes the key when it
starts (`wake_done`), so anything committed later queues the next run. Without one, every commit
queues a run. Beat runs the same tasks on a schedule too, so a lost wake-up only delays the work.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

WAKE_WINDOW = 30  # seconds a queued run stands for every commit that wants one


def wake_after_commit(task, *args, key: str) -> None:
    def enqueue():
        if settings.CACHE_URL and not cache.add(key, 1, timeout=WAKE_WINDOW):
            return
        task.delay(*args)

    transaction.on_commit(enqueue)


def wake_done(key: str) -> None:
    """Called first thing by the woken task: commits from now on queue a new run."""
    cache.delete(key)
