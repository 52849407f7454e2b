"""Retry delays: exponential backoff with jitter, capped (the provider relay and webhooks share it)."""

from __future__ import annotations

import random


def backoff_delay(attempts: int, *, base: float, cap: float) -> float:
    """About base·2^(n-1) seconds after the n-th failed attempt, at most `cap`, jittered down to half.

    The jitter spreads the retries of many rows that failed together (a receiver that was down).
    """
    ceiling = min(cap, base * 2 ** min(max(attempts - 1, 0), 62))
    return random.uniform(ceiling / 2, ceiling)
