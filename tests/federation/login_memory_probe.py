"""Run in a process of its own by test_login_security: POSTs huge usernames to the password login
through the WSGI application, as a web worker would serve them, and prints what stayed behind.

Its own process, because the test runner keeps every log record of a test (and with it each
request and its body) until the test ends, which is not what a web worker does.
"""

import gc
import json
import os
import sys
import tracemalloc
import warnings

import django

USERNAME_BYTES = 2 * 1024 * 1024 - 64  # 2 MB, under DATA_UPLOAD_MAX_MEMORY_SIZE so the body is read
WARM_UP = 5
MEASURED = 40


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.cache import CacheKeyWarning
    from django.test import Client

    client = Client()
    statuses = []

    def attempt(n: int) -> None:
        body = json.dumps({"username": f"{n:04d}" + "u" * USERNAME_BYTES, "password": "x"})
        response = client.post("/api-auth/password/", body, content_type="application/json", REMOTE_ADDR=f"10.0.0.{n}")
        statuses.append((response.status_code, sorted(json.loads(response.content))))

    for n in range(WARM_UP):
        attempt(n)
    gc.collect()
    tracemalloc.start()
    traced_before = tracemalloc.get_traced_memory()[0]
    before = rss_bytes()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(WARM_UP, WARM_UP + MEASURED):
            attempt(n)
        gc.collect()
        after = rss_bytes()
    traced_after = tracemalloc.get_traced_memory()[0]
    json.dump(
        {
            "grown": after - before,
            "python_objects_grown": traced_after - traced_before,
            "statuses": statuses,
            "cache_key_warnings": sum(issubclass(w.category, CacheKeyWarning) for w in caught),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
