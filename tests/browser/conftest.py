"""Browser tests: Debian's Chromium driven by Playwright (pytest-playwright) against a live server.

Playwright's sync API runs an event loop in the test's thread; Django refuses ORM calls there unless
told that this thread is not serving requests concurrently, which holds for the test code itself.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; scripts/browser.sh installs it.")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(autouse=True)
def _fresh_login_rate():
    """Every browser test logs in from 127.0.0.1, and the per-address login rate (LOGIN_THROTTLE_RATE) is
    counted in the cache, which outlives a test: a suite of journeys would otherwise be refused as one
    address trying too many logins."""
    from django.core.cache import cache

    cache.clear()
