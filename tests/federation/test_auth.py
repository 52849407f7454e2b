"""Token login, token authentication, throttling of failed logins."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from federation import services
from federation.models import AuthToken
from federation.models.tokens import hash_token_key
from tests.factories import UserFactory

PASSWORD = "secret-pass-123"
LOGIN = "/api-auth/password/"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


def login(api, username="alice", password=PASSWORD):
    return api.post(LOGIN, {"username": username, "password": password}, format="json")


def test_login_returns_a_token_that_authenticates(api, alice):
    response = login(api)
    assert response.status_code == 200
    key = response.json()["token"]
    me = api.get("/api/users/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


@pytest.mark.parametrize("keyword", ["Token", "token", "TOKEN"])
def test_authorization_keyword_is_case_insensitive(api, alice, keyword):
    key = services.token_issue(user=alice)
    response = api.get("/api/users/me/", HTTP_AUTHORIZATION=f"{keyword} {key}")
    assert response.status_code == 200


def test_login_accepts_form_data_and_ignores_unknown_fields(api, alice):
    response = api.post(LOGIN, {"username": "alice", "password": PASSWORD, "remember": "yes"})
    assert response.status_code == 200
    assert set(response.json()) == {"token"}


def test_wrong_password_is_400(api, alice):
    response = login(api, password="not-the-password")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not AuthToken.objects.filter(user=alice).exists()


def test_unknown_user_is_400(api, db):
    assert login(api, username="nobody").status_code == 400


def test_missing_password_is_400_naming_the_field(api, alice):
    response = api.post(LOGIN, {"username": "alice"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_FAILURE_WINDOW=600)
def test_repeated_failures_for_one_username_are_throttled(api, alice):
    for _ in range(2):
        assert login(api, password="wrong").status_code == 400
    # The failure that reaches the limit is answered with the lockout.
    assert login(api, password="wrong").status_code == 429
    # Once locked out, even the right password is refused, and the answer says for how long.
    response = login(api)
    assert response.status_code == 429
    assert 590 <= int(response["Retry-After"]) <= 600
    assert not AuthToken.objects.filter(user=alice).exists()


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_throttling_is_per_username(api, alice):
    UserFactory(username="bob")
    for _ in range(3):
        login(api, password="wrong")
    assert login(api, username="bob").status_code == 200


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_a_successful_login_resets_the_failure_count(api, alice):
    for _ in range(2):
        login(api, password="wrong")
    assert login(api).status_code == 200
    for _ in range(2):
        login(api, password="wrong")
    assert login(api).status_code == 200


def test_tokens_are_stored_hashed(api, alice):
    key = login(api).json()["token"]
    token = AuthToken.objects.get(user=alice)
    assert token.key_hash == hash_token_key(key)
    assert token.key_hash != key
    assert token.prefix == key[:8]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM federation_authtoken WHERE user_id = %s", [alice.id])
        row = cursor.fetchone()
    assert key not in [str(value) for value in row]


def test_unknown_token_is_401(api, db):
    response = api.get("/api/users/me/", HTTP_AUTHORIZATION="Token deadbeef")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_malformed_header_is_401(api, db):
    assert api.get("/api/users/me/", HTTP_AUTHORIZATION="Token a b").status_code == 401


def test_no_credentials_is_401(api, db):
    assert api.get("/api/users/me/").status_code == 401


@override_settings(TOKEN_LIFETIME=timedelta(hours=1))
def test_token_lifetime_sets_the_expiry(api, alice):
    login(api)
    token = AuthToken.objects.get(user=alice)
    assert timedelta(minutes=59) < token.expires_at - timezone.now() <= timedelta(hours=1)


@override_settings(TOKEN_LIFETIME=timedelta(0))
def test_zero_lifetime_means_no_expiry(api, alice):
    login(api)
    assert AuthToken.objects.get(user=alice).expires_at is None


def test_expired_token_is_401(api, alice):
    key = services.token_issue(user=alice)
    AuthToken.objects.filter(user=alice).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.get("/api/users/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_inactive_user_cannot_log_in_or_use_a_token(api, alice):
    key = services.token_issue(user=alice)
    alice.is_active = False
    alice.save()
    assert login(api).status_code == 400
    assert api.get("/api/users/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_login_view_is_rate_limited_per_client(api, alice, monkeypatch):
    from federation.api.views import LoginThrottle

    monkeypatch.setattr(LoginThrottle, "rate", "2/min", raising=False)
    assert login(api).status_code == 200
    assert login(api).status_code == 200
    assert login(api).status_code == 429
