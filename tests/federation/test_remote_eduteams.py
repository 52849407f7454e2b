"""POST /api/remote-eduteams/: CUID → local user, created from an identity registry when missing.

The registry is a real HTTP server on 127.0.0.1 run in a thread by the test.
"""

import pytest
from django.test import override_settings

from federation.models import User
from tests.factories import UserFactory

from .servers import JsonHandler, serve

URL = "/api/remote-eduteams/"

PEOPLE = {
    "ada@myaccessid.org": {"sub": "ada@myaccessid.org", "name": "Ada Lovelace", "email": "ada@example.org"},
    "grace@myaccessid.org": {"given_name": "Grace", "family_name": "Hopper", "email": "grace@example.org"},
}


class Registry(JsonHandler):
    requests: list = []

    def do_GET(self):  # noqa: N802
        Registry.requests.append((self.path, self.headers.get("Authorization")))
        cuid = self.path.rsplit("/", 1)[-1].replace("%40", "@")
        if cuid == "broken@x":
            self.send_json(500, {"detail": "internal error"})
        elif cuid == "garbage@x":
            self.send_json(200, b"<html>not json</html>")
        elif cuid in PEOPLE:
            self.send_json(200, PEOPLE[cuid])
        else:
            self.send_json(404, {"detail": "not found"})


@pytest.fixture
def registry():
    Registry.requests = []
    with serve(Registry) as base, override_settings(IDENTITY_REGISTRY_URL=f"{base}/api/users/"):
        yield Registry


def test_existing_user_is_returned_without_asking_the_registry(api, staff, registry):
    user = UserFactory(cuid="ada@myaccessid.org")
    response = api.as_user(staff).post(URL, {"cuid": "ada@myaccessid.org"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"uuid": str(user.uuid)}
    assert registry.requests == []


@pytest.fixture
def identity_manager(db):
    """An allocator integration's account: neither staff nor support, only the identity-manager flag."""
    return UserFactory(username="allocator", is_identity_manager=True)


def test_missing_user_is_created_from_the_registry_claims(api, identity_manager, registry):
    response = api.as_user(identity_manager).post(URL, {"cuid": "ada@myaccessid.org"}, format="json")
    assert response.status_code == 200, response.json()
    user = User.objects.get(cuid="ada@myaccessid.org")
    assert response.json() == {"uuid": str(user.uuid)}
    assert (user.full_name, user.email, user.registration_method) == (
        "Ada Lovelace",
        "ada@example.org",
        "remote-eduteams",
    )
    assert not user.has_usable_password()
    assert registry.requests == [("/api/users/ada%40myaccessid.org", None)]
    # The second call finds the local user.
    again = api.as_user(identity_manager).post(URL, {"cuid": "ada@myaccessid.org"}, format="json")
    assert again.json() == {"uuid": str(user.uuid)}
    assert len(registry.requests) == 1


def test_name_from_given_and_family_name(api, staff, registry):
    api.as_user(staff).post(URL, {"cuid": "grace@myaccessid.org"}, format="json")
    assert User.objects.get(cuid="grace@myaccessid.org").full_name == "Grace Hopper"


def test_registry_token_is_sent(api, staff, registry):
    with override_settings(IDENTITY_REGISTRY_TOKEN="registry-secret"):
        api.as_user(staff).post(URL, {"cuid": "ada@myaccessid.org"}, format="json")
    assert registry.requests[0][1] == "Bearer registry-secret"


def test_unknown_cuid_is_404_with_a_clear_message(api, staff, registry):
    response = api.as_user(staff).post(URL, {"cuid": "nobody@myaccessid.org"}, format="json")
    assert response.status_code == 404
    assert "nobody@myaccessid.org" in response.json()["detail"]
    assert not User.objects.filter(cuid="nobody@myaccessid.org").exists()


def test_unknown_cuid_without_a_registry_is_404(api, staff):
    with override_settings(IDENTITY_REGISTRY_URL=""):
        response = api.as_user(staff).post(URL, {"cuid": "nobody@myaccessid.org"}, format="json")
    assert response.status_code == 404
    assert "no identity registry" in response.json()["detail"]


def test_unreachable_registry_is_502(api, staff, closed_port_url):
    with override_settings(IDENTITY_REGISTRY_URL=closed_port_url, IDENTITY_REGISTRY_TIMEOUT=2):
        response = api.as_user(staff).post(URL, {"cuid": "ada@myaccessid.org"}, format="json")
    assert response.status_code == 502
    assert "unreachable" in response.json()["detail"]


def test_registry_error_is_502(api, staff, registry):
    response = api.as_user(staff).post(URL, {"cuid": "broken@x"}, format="json")
    assert response.status_code == 502
    assert "HTTP 500" in response.json()["detail"]


def test_registry_answering_garbage_is_502(api, staff, registry):
    response = api.as_user(staff).post(URL, {"cuid": "garbage@x"}, format="json")
    assert response.status_code == 502
    assert "not JSON" in response.json()["detail"]


@pytest.mark.parametrize("payload", [{}, {"cuid": ""}, {"cuid": "   "}, {"cuid": None}])
def test_missing_cuid_is_400(api, staff, payload):
    response = api.as_user(staff).post(URL, payload, format="json")
    assert response.status_code == 400
    assert "cuid" in response.json()


@pytest.mark.parametrize("who", ["owner", "manager", "member", "outsider", "support"])
def test_only_staff_and_identity_managers_may_call_it(api, db, request, registry, who):
    UserFactory(cuid="ada@myaccessid.org")
    response = api.as_user(request.getfixturevalue(who)).post(URL, {"cuid": "ada@myaccessid.org"}, format="json")
    assert response.status_code == 403
    assert registry.requests == []


def test_not_allowed_is_403_before_the_body_is_read(api, support, registry):
    """Global support reads everything but may not look up (and so create) people; no body changes that."""
    response = api.as_user(support).post(URL, {"cuid": "grace@myaccessid.org"}, format="json")
    assert response.status_code == 403
    assert "identity managers" in response.json()["detail"]
    assert api.as_user(support).post(URL, {}, format="json").status_code == 403
    assert registry.requests == []
    assert not User.objects.filter(cuid="grace@myaccessid.org").exists()


def test_anonymous_is_401(api, db):
    assert api.post(URL, {"cuid": "ada@myaccessid.org"}, format="json").status_code == 401


def test_local_username_clash_is_a_clear_400(api, staff, registry):
    UserFactory(username="ada@myaccessid.org")
    response = api.as_user(staff).post(URL, {"cuid": "ada@myaccessid.org"}, format="json")
    assert response.status_code == 400
    assert "cuid" in response.json()
