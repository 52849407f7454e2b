"""The token cache as deployed: gunicorn with two worker processes sharing Redis, on the test database.

A token served from the cache by either worker is refused by both right after it is revoked, or
after its user is deactivated by another process (here the test itself, as the admin or a Celery
task would).
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings
from django.db import connection

from federation import services
from federation.models import AuthToken
from federation.models.tokens import hash_token_key
from federation.token_cache import _entry_key
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]

ROOT = Path(__file__).resolve().parents[2]
CACHE_URL = f"redis://127.0.0.1:6379/{int(os.environ.get('TEST_BROKER_DB', '14'))}"
REQUESTS = 10  # new connections each: the two sync workers take them in turn as they accept


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    s = connection.settings_dict
    return (
        f"postgres://{s.get('USER') or 'postgres'}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"
    )


@contextlib.contextmanager
def gunicorn(workers: int = 2):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CACHE_URL": CACHE_URL,
        "TOKEN_CACHE_SECONDS": "60",
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers)]
    process = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.ConnectionError):
                requests.get(f"{base}/api/", timeout=5)
                break
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def statuses(base: str, key: str) -> set[int]:
    return {
        requests.get(f"{base}/api/users/me/", headers={"Authorization": f"Token {key}"}, timeout=10).status_code
        for _ in range(REQUESTS)
    }


@pytest.fixture
def shared_cache(settings):
    """This process drops cached tokens in the same Redis as the workers read them from."""
    settings.CACHES = {"default": {"BACKEND": "common.cache.RedisCache", "LOCATION": CACHE_URL}}
    settings.TOKEN_CACHE_SECONDS = 60
    client = redis.Redis.from_url(CACHE_URL)
    client.ping()
    return client


def cached(client: redis.Redis, key: str) -> bool:
    return any(client.scan_iter(match=f"*{_entry_key(hash_token_key(key))}"))


def test_revoking_a_token_through_one_worker_refuses_it_in_both(shared_cache):
    alice = UserFactory(username="alice")
    key, other = services.token_issue(user=alice), services.token_issue(user=alice)
    with gunicorn() as base:
        assert statuses(base, key) == {200}
        assert cached(shared_cache, key)
        target = AuthToken.objects.get(key_hash=hash_token_key(key))
        response = requests.delete(f"{base}/api/tokens/{target.uuid}/", headers={"Authorization": f"Token {other}"})
        assert response.status_code == 204
        assert statuses(base, key) == {401}
        assert statuses(base, other) == {200}


def test_deactivating_the_user_elsewhere_refuses_the_token_in_both_workers(shared_cache):
    alice = UserFactory(username="alice")
    key = services.token_issue(user=alice)
    with gunicorn() as base:
        assert statuses(base, key) == {200}
        assert cached(shared_cache, key)
        alice.is_active = False
        alice.save()
        assert statuses(base, key) == {401}
