"""API tokens: revoked by a password change, by logout, and by their holder from the token list."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from federation import services
from federation.models import AuthToken
from tests.factories import UserFactory

PASSWORD = "secret-pass-123"
ME = "/api/users/me/"
TOKENS = "/api/tokens/"
LOGOUT = "/api-auth/logout/"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


def auth(key):
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def login(api, username="alice", password=PASSWORD):
    response = api.post("/api-auth/password/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


# --- a password change revokes every token of the user -------------------------------------------


def test_set_password_revokes_every_token_of_the_user(api, alice, bob):
    keys = [login(api), services.token_issue(user=alice)]
    bobs = services.token_issue(user=bob)
    alice.set_password("another-pass-456")
    alice.save()
    for key in keys:
        response = api.get(ME, **auth(key))
        assert response.status_code == 401
        assert "password" in response.json()["detail"]
    assert api.get(ME, **auth(bobs)).status_code == 200
    # The new password gives a working token again; the revoked ones are gone from the table.
    assert api.get(ME, **auth(login(api, password="another-pass-456"))).status_code == 200
    assert AuthToken.objects.filter(user=alice).count() == 1


def test_password_change_in_the_admin_revokes_the_users_tokens(api, client, alice):
    key = login(api)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        f"/admin/federation/user/{alice.pk}/password/",
        {"password1": "another-pass-456", "password2": "another-pass-456", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert api.get(ME, **auth(key)).status_code == 401


def test_password_change_by_the_user_in_the_admin_revokes_their_tokens(api, client, db):
    staff = UserFactory(username="helpdesk", is_staff=True)
    key = services.token_issue(user=staff)
    client.force_login(staff)
    response = client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": "another-pass-456", "new_password2": "another-pass-456"},
    )
    assert response.status_code == 302
    assert api.get(ME, **auth(key)).status_code == 401


def test_a_new_login_keeps_the_other_tokens(api, alice):
    first, second = login(api), login(api)
    assert api.get(ME, **auth(first)).status_code == 200
    assert api.get(ME, **auth(second)).status_code == 200


def test_rotating_the_secret_key_keeps_tokens_while_the_old_key_is_a_fallback(api, alice, settings):
    key = services.token_issue(user=alice)
    old = settings.SECRET_KEY
    with override_settings(SECRET_KEY="a-new-secret-key-" + "x" * 40, SECRET_KEY_FALLBACKS=[old]):
        assert api.get(ME, **auth(key)).status_code == 200
    with override_settings(SECRET_KEY="a-new-secret-key-" + "x" * 40, SECRET_KEY_FALLBACKS=[]):
        assert api.get(ME, **auth(key)).status_code == 401


# --- logout --------------------------------------------------------------------------------------


def test_logout_revokes_the_token_used_and_only_it(api, alice):
    used, other = login(api), login(api)
    response = api.post(LOGOUT, **auth(used))
    assert response.status_code == 204
    assert api.get(ME, **auth(used)).status_code == 401
    assert api.post(LOGOUT, **auth(used)).status_code == 401
    assert api.get(ME, **auth(other)).status_code == 200


def test_logout_needs_a_token(api, client, alice):
    assert api.post(LOGOUT).status_code == 401
    client.force_login(alice)
    assert client.post(LOGOUT).status_code == 401


# --- listing and revoking one's own tokens ---------------------------------------------------------


def test_a_user_lists_their_own_tokens_without_keys(api, alice, bob):
    current, other = login(api), services.token_issue(user=alice)
    services.token_issue(user=bob)
    response = api.get(TOKENS, **auth(current))
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 2
    assert {row["prefix"] for row in rows} == {current[:8], other[:8]}
    assert set(rows[0]) == {"uuid", "prefix", "created", "expires_at", "last_used", "is_current"}
    assert [row["is_current"] for row in rows if row["prefix"] == current[:8]] == [True]
    assert current not in response.content.decode() and other not in response.content.decode()


def test_staff_see_only_their_own_tokens_too(api, alice):
    services.token_issue(user=alice)
    staff = UserFactory(username="staff", is_staff=True)
    response = api.get(TOKENS, **auth(services.token_issue(user=staff)))
    assert [row["is_current"] for row in response.json()] == [True]
    alices = AuthToken.objects.get(user=alice)
    assert api.get(f"{TOKENS}{alices.uuid}/", **auth(services.token_issue(user=staff))).status_code == 404
    assert api.delete(f"{TOKENS}{alices.uuid}/", **auth(services.token_issue(user=staff))).status_code == 404
    assert AuthToken.objects.filter(user=alice).exists()


def test_expired_and_revoked_tokens_are_not_listed(api, alice):
    current = login(api)
    expired = services.token_issue(user=alice)
    AuthToken.objects.filter(prefix=expired[:8]).update(expires_at=timezone.now() - timedelta(seconds=1))
    stale = services.token_issue(user=alice)
    AuthToken.objects.filter(prefix=stale[:8]).update(password_fingerprint="0" * 64)
    rows = api.get(TOKENS, **auth(current)).json()
    assert [row["prefix"] for row in rows] == [current[:8]]


def test_a_user_revokes_one_of_their_tokens(api, alice):
    current, other = login(api), services.token_issue(user=alice)
    target = AuthToken.objects.get(prefix=other[:8])
    response = api.delete(f"{TOKENS}{target.uuid}/", **auth(current))
    assert response.status_code == 204
    assert api.get(ME, **auth(other)).status_code == 401
    assert api.get(ME, **auth(current)).status_code == 200


def test_another_users_token_is_not_found_and_stays(api, alice, bob):
    bobs = services.token_issue(user=bob)
    target = AuthToken.objects.get(user=bob)
    response = api.delete(f"{TOKENS}{target.uuid}/", **auth(login(api)))
    assert response.status_code == 404
    assert api.get(ME, **auth(bobs)).status_code == 200


def test_a_read_only_support_account_may_revoke_its_own_token(api, db):
    support = UserFactory(username="helpdesk", is_support=True)
    key = services.token_issue(user=support)
    target = AuthToken.objects.get(user=support)
    assert api.delete(f"{TOKENS}{target.uuid}/", **auth(key)).status_code == 204
    assert api.get(ME, **auth(key)).status_code == 401


def test_last_used_is_recorded_to_the_minute(api, alice, django_assert_num_queries):
    key = login(api)
    token = AuthToken.objects.get(user=alice)
    assert token.last_used is not None
    # A recent use needs no write: a request costs its token look-up and nothing more.
    recent = timezone.now() - timedelta(seconds=30)
    AuthToken.objects.filter(id=token.id).update(last_used=recent)
    with django_assert_num_queries(1):
        assert api.get(ME, **auth(key)).status_code == 200
    token.refresh_from_db()
    assert token.last_used == recent
    # An older one is brought up to date.
    AuthToken.objects.filter(id=token.id).update(last_used=timezone.now() - timedelta(minutes=5))
    api.get(ME, **auth(key))
    token.refresh_from_db()
    assert timezone.now() - token.last_used < timedelta(seconds=10)
