"""Login protection: bounded input, one lockout at every door, the client address, Retry-After."""

import json
import os
import subprocess
import sys
import warnings
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.cache import CacheKeyWarning
from django.db import connection
from django.test import RequestFactory, override_settings
from django.utils import timezone

from common.api.throttling import LoginThrottle
from common.login_security import client_ip
from federation.models import AuthToken
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "secret-pass-123"
API_LOGIN = "/api-auth/password/"
PORTAL_LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"
STRANGER = "198.51.100.66"
OWNER_ADDRESS = "203.0.113.10"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def generous_rate(monkeypatch):
    """Take the per-address rate out of the way of tests about the per-account lockout."""
    monkeypatch.setattr(LoginThrottle, "rate", "1000/min", raising=False)


def api_login(client, username="alice", password=PASSWORD, address="127.0.0.1", **extra):
    return client.post(
        API_LOGIN, {"username": username, "password": password}, format="json", REMOTE_ADDR=address, **extra
    )


def form_login(client, path, username="alice", password=PASSWORD, address="127.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


# --- a huge username costs nothing that stays ------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def test_huge_usernames_leave_memory_where_it_was_and_raise_no_warning(db, tmp_path):
    """40 logins with 2 MB usernames, in a web process of their own, leave its memory as it was."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "FEDERATION_VAR_DIR": str(tmp_path), "LOG_LEVEL": "ERROR"}
    # A fixed mmap threshold: glibc otherwise raises it after the first large free and serves later
    # 2 MB buffers from a heap it may not hand back, so the resident size would measure the
    # allocator's slack rather than what the process keeps. Python's own retention is traced as well.
    env["MALLOC_MMAP_THRESHOLD_"] = str(256 * 1024)
    result = subprocess.run(
        [sys.executable, "-m", "tests.federation.login_memory_probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert all(status == 400 and fields == ["username"] for status, fields in report["statuses"]), report["statuses"]
    assert report["cache_key_warnings"] == 0
    assert report["grown"] < 8 * 1024 * 1024, f"resident memory grew by {report['grown'] / 2**20:.1f} MB"
    assert report["python_objects_grown"] < 1024 * 1024, report["python_objects_grown"]


def test_username_over_the_model_bound_is_400_naming_the_field(api, alice):
    response = api_login(api, username="a" * 151)
    assert response.status_code == 400
    assert "username" in response.json()


def test_a_forged_long_forwarded_for_raises_no_cache_key_warning(api, alice):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = api_login(api, HTTP_X_FORWARDED_FOR=", ".join(["10.0.0.1"] * 60))
    assert response.status_code == 200
    assert not [w for w in caught if issubclass(w.category, CacheKeyWarning)]


# --- the portal and the admin are locked out like the API ----------------------------------


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW=600)
def test_portal_login_locks_out_after_the_failure_limit(client, alice, generous_rate):
    for _ in range(2):
        assert form_login(client, PORTAL_LOGIN, password="wrong").status_code == 200  # the form again
    locked = form_login(client, PORTAL_LOGIN, password="wrong")
    assert locked.status_code == 429
    # Locked out: the right password does not open a session either.
    refused = form_login(client, PORTAL_LOGIN)
    assert refused.status_code == 429
    assert 590 <= int(refused["Retry-After"]) <= 600
    assert b"try again in 10 minutes" in refused.content.lower()
    assert "_auth_user_id" not in client.session
    assert client.get("/api/users/me/").status_code in (401, 403)


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW=600)
def test_admin_login_locks_out_after_the_failure_limit(client, admin_user, generous_rate):
    for _ in range(2):
        assert form_login(client, ADMIN_LOGIN, username="root", password="wrong").status_code == 200
    assert form_login(client, ADMIN_LOGIN, username="root", password="wrong").status_code == 429
    refused = form_login(client, ADMIN_LOGIN, username="root")
    assert refused.status_code == 429
    assert refused.has_header("Retry-After")
    assert client.get("/admin/").status_code == 302  # still sent to the login page


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_portal_login_still_works_below_the_limit_and_resets_the_count(client, alice, generous_rate):
    for _ in range(2):
        form_login(client, PORTAL_LOGIN, password="wrong")
    assert form_login(client, PORTAL_LOGIN).status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()


@override_settings(LOGIN_FAILURE_LIMIT=3)
@pytest.mark.parametrize("door", [PORTAL_LOGIN, ADMIN_LOGIN])
def test_one_lockout_for_every_door(api, client, alice, generous_rate, door):
    """Failures at the portal or the admin lock the API's login too, so a session cannot go around it."""
    for _ in range(3):
        form_login(client, door, password="wrong")
    response = api_login(api)
    assert response.status_code == 429
    assert not AuthToken.objects.filter(user=alice).exists()


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_api_failures_lock_the_portal_too(api, client, alice, generous_rate):
    for _ in range(3):
        api_login(api, password="wrong")
    assert form_login(client, PORTAL_LOGIN).status_code == 429


@pytest.mark.parametrize("door", [PORTAL_LOGIN, ADMIN_LOGIN])
def test_portal_and_admin_logins_are_rate_limited_per_address(client, db, monkeypatch, door):
    monkeypatch.setattr(LoginThrottle, "rate", "2/min", raising=False)
    assert form_login(client, door, username="someone").status_code == 200
    assert form_login(client, door, username="someone-else").status_code == 200
    refused = form_login(client, door, username="a-third")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Another address is not held back; a GET of the page never counts.
    assert form_login(client, door, username="a-third", address="192.0.2.7").status_code == 200
    assert client.get(door).status_code == 200


def test_the_per_address_rate_is_shared_by_the_api_and_the_portal(api, client, alice, monkeypatch):
    monkeypatch.setattr(LoginThrottle, "rate", "2/min", raising=False)
    form_login(client, PORTAL_LOGIN, password="wrong")
    form_login(client, PORTAL_LOGIN, password="wrong")
    assert api_login(api).status_code == 429


def test_axes_admin_pages_are_served(client, admin_user):
    client.force_login(admin_user)
    pages = ("/admin/axes/accessattempt/", "/admin/axes/accessfailurelog/", "/admin/axes/accesslog/")
    for page in (*pages, "/admin/federation/authtoken/"):
        assert client.get(page).status_code == 200, page


# --- the client address ----------------------------------------------------------------------


def _request(remote="192.0.2.1", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, None, "192.0.2.1"),
        (0, "203.0.113.5", "192.0.2.1"),  # nobody trusted: the header is ignored
        (1, None, "192.0.2.1"),
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the client's own entries on the left are not believed
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "192.0.2.1"),  # fewer entries than proxies: the request skipped a proxy
        (1, "not-an-address", "192.0.2.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(_request(forwarded=forwarded)) == expected


def test_forged_forwarded_for_does_not_escape_the_rate(api, alice, monkeypatch):
    monkeypatch.setattr(LoginThrottle, "rate", "2/min", raising=False)
    for n in range(2):
        api_login(api, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert api_login(api, HTTP_X_FORWARDED_FOR="10.0.0.99").status_code == 429


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_forged_forwarded_for_does_not_escape_the_lockout(api, alice, generous_rate):
    for n in range(3):
        api_login(api, password="wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert api_login(api, HTTP_X_FORWARDED_FOR="10.0.0.99").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


@override_settings(LOGIN_FAILURE_LIMIT=3, TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(api, alice, monkeypatch):
    monkeypatch.setattr(LoginThrottle, "rate", "2/min", raising=False)
    proxy = "10.1.1.1"
    for _ in range(3):
        api_login(api, password="wrong", address=proxy, HTTP_X_FORWARDED_FOR=f"1.1.1.1, {STRANGER}")
    assert AccessAttempt.objects.get().ip_address == STRANGER
    # The rate and the lockout hold the stranger, not everyone behind the same proxy.
    assert api_login(api, address=proxy, HTTP_X_FORWARDED_FOR=STRANGER).status_code == 429
    assert api_login(api, address=proxy, HTTP_X_FORWARDED_FOR=OWNER_ADDRESS).status_code == 200


# --- the lockout and its Retry-After ----------------------------------------------------------


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_a_stranger_cannot_lock_the_owner_out(api, alice, generous_rate):
    for _ in range(10):
        api_login(api, password="wrong", address=STRANGER)
    assert api_login(api, address=STRANGER).status_code == 429
    response = api_login(api, address=OWNER_ADDRESS)
    assert response.status_code == 200
    assert "token" in response.json()


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW=600)
def test_retry_after_is_the_time_left_and_retrying_does_not_extend_it(api, alice, generous_rate):
    for _ in range(3):
        api_login(api, password="wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(seconds=200))
    response = api_login(api, password="wrong")  # a try during the lockout is not counted
    assert response.status_code == 429
    assert 395 <= int(response["Retry-After"]) <= 400
    assert AccessAttempt.objects.get().failures_since_start == 3
    response = api_login(api)
    assert 395 <= int(response["Retry-After"]) <= 400


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW=600)
def test_the_lockout_ends_when_the_window_has_passed(api, alice, generous_rate):
    for _ in range(3):
        api_login(api, password="wrong")
    assert api_login(api).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(seconds=601))
    assert api_login(api).status_code == 200
