"""Token look-ups kept in the cache (TOKEN_CACHE_SECONDS): requests stop querying for the token, and
revoking the token or changing its user still takes effect on the very next request."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from federation import services, token_cache
from federation.models import AuthToken
from federation.models.tokens import hash_token_key
from tests.factories import UserFactory
from tests.federation.settings_processes import production_env, run

ME = "/api/users/me/"
PROJECTS = "/api/projects/"
TOKENS = "/api/tokens/"
LOGOUT = "/api-auth/logout/"


@pytest.fixture(autouse=True)
def _token_cache_on(settings):
    settings.TOKEN_CACHE_SECONDS = 60


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def auth(key):
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def token_queries(api, url, key) -> tuple[int, int]:
    """(status, how many queries of the request read the token table)."""
    with CaptureQueriesContext(connection) as queries:
        status = api.get(url, **auth(key)).status_code
    return status, sum('"federation_authtoken"' in q["sql"] and q["sql"].startswith("SELECT") for q in queries)


def warm(api, key, url=ME):
    """Authenticate until the token is served from the cache (the first request builds the entry), and
    check that the second one read no token."""
    assert token_queries(api, url, key) == (200, 1)
    assert token_queries(api, url, key) == (200, 0)


def test_after_one_request_the_token_costs_no_query(api, alice):
    key = services.token_issue(user=alice)
    warm(api, key)
    assert token_queries(api, ME, key) == (200, 0)
    assert api.get(ME, **auth(key)).json()["username"] == "alice"


def test_the_projects_list_runs_its_count_and_page_only(api, staff, project, django_assert_num_queries):
    key = services.token_issue(user=staff)
    warm(api, key, PROJECTS)
    with django_assert_num_queries(2):  # the count and the page: the token came from the cache
        response = api.get(PROJECTS, **auth(key))
    assert response.status_code == 200
    assert response["X-Result-Count"] == "1"


def test_off_it_reads_the_token_on_every_request_and_caches_nothing(api, alice, settings):
    settings.TOKEN_CACHE_SECONDS = 0
    key = services.token_issue(user=alice)
    for _ in range(3):
        assert token_queries(api, ME, key) == (200, 1)
    assert cache.get(token_cache._entry_key(hash_token_key(key))) is None
    assert cache.get(token_cache._generation_key(hash_token_key(key))) is None


def test_the_cache_holds_neither_the_key_nor_its_hash_nor_the_password(api, alice):
    key = services.token_issue(user=alice)
    warm(api, key)
    key_hash = hash_token_key(key)
    entry = cache.get(token_cache._entry_key(key_hash))
    assert entry is not None
    assert key not in token_cache._entry_key(key_hash) and key_hash not in token_cache._entry_key(key_hash)
    assert "password" not in entry["user"] and "password_fingerprint" not in entry["token"]


# --- revocation is immediate -----------------------------------------------------------------------


def test_revoking_the_token_refuses_the_next_request(api, alice):
    key = services.token_issue(user=alice)
    other = services.token_issue(user=alice)
    warm(api, key)
    target = AuthToken.objects.get(key_hash=hash_token_key(key))
    assert api.delete(f"{TOKENS}{target.uuid}/", **auth(other)).status_code == 204
    assert api.get(ME, **auth(key)).status_code == 401
    assert api.get(ME, **auth(other)).status_code == 200


def test_logout_refuses_the_next_request(api, alice):
    key = services.token_issue(user=alice)
    warm(api, key)
    assert api.post(LOGOUT, **auth(key)).status_code in (200, 204)
    assert api.get(ME, **auth(key)).status_code == 401


def test_deleting_the_token_anywhere_refuses_the_next_request(api, alice):
    """The admin and other code delete rows without the service: the signal still drops the entry."""
    key = services.token_issue(user=alice)
    warm(api, key)
    AuthToken.objects.get(key_hash=hash_token_key(key)).delete()
    assert api.get(ME, **auth(key)).status_code == 401


def test_deactivating_the_user_refuses_the_next_request(api, alice):
    key = services.token_issue(user=alice)
    warm(api, key)
    alice.is_active = False
    alice.save()
    response = api.get(ME, **auth(key))
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]


def test_deleting_the_user_refuses_the_next_request(api, alice):
    key = services.token_issue(user=alice)
    warm(api, key)
    alice.delete()
    assert api.get(ME, **auth(key)).status_code == 401


def test_a_new_password_refuses_the_next_request(api, alice):
    key = services.token_issue(user=alice)
    warm(api, key)
    alice.set_password("another-pass-456")
    alice.save()
    response = api.get(ME, **auth(key))
    assert response.status_code == 401
    assert "password" in response.json()["detail"]


def test_losing_staff_shows_on_the_next_request(api, staff, project):
    key = services.token_issue(user=staff)
    warm(api, key, PROJECTS)
    assert api.get(PROJECTS, **auth(key))["X-Result-Count"] == "1"
    staff.is_staff = False
    staff.save()
    response = api.get(PROJECTS, **auth(key))
    assert response.status_code == 200
    assert response["X-Result-Count"] == "0"  # a plain user with no roles sees no project


def test_a_change_that_commits_later_outlives_no_entry_cached_in_between(
    api, alice, django_capture_on_commit_callbacks
):
    """A request that read the user before the deactivation committed, and cached it after the
    deactivation set a new generation, holds that generation: the commit sets another one."""
    key = services.token_issue(user=alice)
    warm(api, key)
    key_hash = hash_token_key(key)
    before = AuthToken.objects.select_related("user").get(key_hash=key_hash)  # read before the commit
    with django_capture_on_commit_callbacks(execute=True):
        alice.is_active = False
        alice.save()
        token, generation = token_cache.lookup(key_hash)  # that request, after the save
        assert token is None
        token_cache.remember(before, generation)
        assert token_cache.lookup(key_hash)[0] is not None  # the stale entry is there until the commit
    assert token_cache.lookup(key_hash)[0] is None
    assert api.get(ME, **auth(key)).status_code == 401


def test_an_evicted_generation_makes_the_entry_miss_until_a_new_one_is_read_first(api, alice):
    key = services.token_issue(user=alice)
    warm(api, key)
    cache.delete(token_cache._generation_key(hash_token_key(key)))
    assert token_queries(api, ME, key) == (200, 1)  # sets a generation, builds no entry
    assert token_queries(api, ME, key) == (200, 1)  # reads it first, then builds the entry
    assert token_queries(api, ME, key) == (200, 0)


def test_a_token_issued_while_its_user_changes_is_dropped_when_the_change_commits(
    api, alice, django_capture_on_commit_callbacks
):
    """The change lists the user's tokens when it is saved and again when it commits: a token that
    appeared in between (a login elsewhere) and was cached with the old user is dropped too."""
    with django_capture_on_commit_callbacks(execute=True):
        alice.is_active = False
        alice.save()
        key = services.token_issue(user=alice)  # committed by another transaction, in production
        stale = AuthToken.objects.select_related("user").get(key_hash=hash_token_key(key))
        stale.user.is_active = True  # what that request read before the deactivation committed
        token, generation = token_cache.lookup(hash_token_key(key))
        token_cache.remember(stale, generation)
        assert token_cache.lookup(hash_token_key(key))[0] is not None
    assert token_cache.lookup(hash_token_key(key))[0] is None
    assert api.get(ME, **auth(key)).status_code == 401


# --- expiry, last use, keys ---------------------------------------------------------------------------


def test_an_expired_token_is_refused_though_its_entry_is_still_cached(api, alice, monkeypatch):
    key = services.token_issue(user=alice)
    warm(api, key)
    token = AuthToken.objects.get(key_hash=hash_token_key(key))
    later = token.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = api.get(ME, **auth(key))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_an_entry_lives_no_longer_than_its_token(api, alice, settings, monkeypatch):
    settings.TOKEN_CACHE_SECONDS = 3600
    settings.TOKEN_LIFETIME = timedelta(seconds=120)
    key = services.token_issue(user=alice)
    stored = {}
    set_entry = cache.set

    def spy(name, value, timeout):
        if name.startswith("authtoken:"):
            stored["timeout"] = timeout
        set_entry(name, value, timeout)

    monkeypatch.setattr(cache, "set", spy)
    warm(api, key)
    assert 0 < stored["timeout"] <= 120


def test_last_use_is_still_recorded_to_the_minute(api, alice, django_assert_num_queries):
    key = services.token_issue(user=alice)
    warm(api, key)
    token = AuthToken.objects.get(key_hash=hash_token_key(key))
    later = timezone.now() + timedelta(minutes=5)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        with django_assert_num_queries(1):  # the write of last_used only
            assert api.get(ME, **auth(key)).status_code == 200
        with django_assert_num_queries(0):  # the entry carries the new time: no second write
            assert api.get(ME, **auth(key)).status_code == 200
    token.refresh_from_db()
    assert token.last_used == later


def test_an_unknown_token_is_refused_every_time_and_cached_never(api, alice):
    for _ in range(3):
        assert token_queries(api, ME, "0" * 40) == (401, 1)
    assert cache.get(token_cache._entry_key(hash_token_key("0" * 40))) is None
    assert cache.get(token_cache._generation_key(hash_token_key("0" * 40))) is None


def test_a_new_secret_key_leaves_the_entries_behind(api, alice, settings):
    key = services.token_issue(user=alice)
    warm(api, key)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]  # the token stays valid through the rotation
    settings.SECRET_KEY = "a-rotated-secret-key-" + "y" * 40
    assert token_queries(api, ME, key) == (200, 1)


def test_on_by_default_with_a_shared_cache_only_and_refused_without_one():
    show = [
        "-c",
        "import django; django.setup(); from django.conf import settings; print(settings.TOKEN_CACHE_SECONDS)",
    ]
    alone = {k: v for k, v in production_env().items() if k not in ("CACHE_URL", "TOKEN_CACHE_SECONDS")}
    assert run(show, alone).stdout.strip() == "0"
    assert run(show, {**alone, "CACHE_URL": "redis://127.0.0.1:6379/15"}).stdout.strip() == "60"
    refused = run(show, {**alone, "TOKEN_CACHE_SECONDS": "60"})
    assert refused.returncode != 0
    assert "TOKEN_CACHE_SECONDS needs CACHE_URL" in refused.stderr
