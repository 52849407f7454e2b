"""The Redis cache backend (common.cache): one client per pool, and every call still reaches Redis."""

import os
import threading

import pytest
import redis

from common.cache import RedisCache

CACHE_URL = f"redis://127.0.0.1:6379/{int(os.environ.get('TEST_BROKER_DB', '14'))}"
PREFIX = "test-cache-backend"


@pytest.fixture
def raw():
    """A plain Redis client on the same database, to see what the cache wrote."""
    client = redis.Redis.from_url(CACHE_URL)
    client.ping()
    yield client
    for key in client.scan_iter(f"{PREFIX}:*"):
        client.delete(key)


@pytest.fixture
def cache(raw):
    return RedisCache(CACHE_URL, {"KEY_PREFIX": PREFIX})


def test_one_client_serves_every_call(cache):
    first = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is first
    assert cache._cache.get_client(write=False) is first  # one server: reads and writes share its pool


def test_calls_reach_redis_from_several_threads(cache, raw):
    assert cache.add("wake", 1, timeout=30) is True
    assert cache.add("wake", 1, timeout=30) is False  # what the wake-ups rely on
    errors = []

    def write(n):
        try:
            cache.set(f"key-{n}", n, timeout=30)
            assert cache.get(f"key-{n}") == n
        except Exception as exc:  # noqa: BLE001  (reported below, in the test's thread)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(raw.scan_iter(f"{PREFIX}:*"))) == 9
    cache.delete("wake")
    assert cache.get("wake") is None
    assert not raw.exists(cache.make_key("wake"))
