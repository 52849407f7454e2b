"""Portal login: OIDC against a local identity provider that signs real RS256 ID tokens, and local accounts.

The identity provider is a stdlib HTTP server in a thread serving a JWKS, a token endpoint and a
userinfo endpoint; the test plays the browser with Django's test client.
"""

import json
import secrets
import time
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import SESSION_KEY
from django.test import Client, override_settings
from jwt.algorithms import RSAAlgorithm

from federation.models import RoleName, User
from tests.factories import ProjectFactory, UserFactory, grant

from .servers import JsonHandler, serve

CLIENT_ID = "federation-portal"
CLIENT_SECRET = "portal-secret"
KID = "idp-key-1"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class IdentityProvider:
    """State of the test IdP: its key, the codes it handed out, and what the tests want to go wrong."""

    def __init__(self):
        self.key = new_key()
        self.signing_key = self.key  # swapped for another key to forge tokens
        self.base = ""
        self.grants: dict[str, dict] = {}  # code → {"nonce", "claims"}
        self.access: dict[str, dict] = {}  # access token → userinfo claims
        self.token_requests: list[dict] = []
        self.id_token_overrides: dict = {}
        self.userinfo_overrides: dict = {}

    def jwks(self) -> dict:
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}

    def authorize(self, nonce: str, claims: dict) -> str:
        """What the IdP does when the person logs in there: remember the nonce, hand out a code."""
        code = secrets.token_urlsafe(16)
        self.grants[code] = {"nonce": nonce, "claims": claims}
        return code

    def token(self, form: dict) -> tuple[int, dict]:
        self.token_requests.append(form)
        grant_ = self.grants.pop(form.get("code", ""), None)
        if grant_ is None or form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 400, {"error": "invalid_grant"}
        now = int(time.time())
        id_claims = {
            "iss": self.base,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant_["nonce"],
            **grant_["claims"],
            **self.id_token_overrides,
        }
        id_token = jwt.encode(id_claims, self.signing_key, algorithm="RS256", headers={"kid": KID})
        access_token = secrets.token_urlsafe(16)
        self.access[access_token] = {**grant_["claims"], **self.userinfo_overrides}
        return 200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}


@pytest.fixture
def idp():
    provider = IdentityProvider()

    class Handler(JsonHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/jwks":
                return self.send_json(200, provider.jwks())
            if self.path == "/userinfo":
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if token not in provider.access:
                    return self.send_json(401, {"error": "invalid_token"})
                return self.send_json(200, provider.access[token])
            self.send_json(404, {})

        def do_POST(self):  # noqa: N802
            if self.path != "/token":
                return self.send_json(404, {})
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = {k: v[0] for k, v in parse_qs(body).items()}
            self.send_json(*provider.token(form))

    with serve(Handler) as base:
        provider.base = base
        with override_settings(
            OIDC_ENABLED=True,
            OIDC_RP_CLIENT_ID=CLIENT_ID,
            OIDC_RP_CLIENT_SECRET=CLIENT_SECRET,
            OIDC_RP_SIGN_ALGO="RS256",
            OIDC_OP_AUTHORIZATION_ENDPOINT=f"{base}/authorize",
            OIDC_OP_TOKEN_ENDPOINT=f"{base}/token",
            OIDC_OP_USER_ENDPOINT=f"{base}/userinfo",
            OIDC_OP_JWKS_ENDPOINT=f"{base}/jwks",
            OIDC_OP_ISSUER=base,
        ):
            yield provider


ADA = {"sub": "ada@myaccessid.org", "email": "ada@example.org", "name": "Ada Lovelace"}


def oidc_login(browser: Client, idp: IdentityProvider, claims: dict, *, nonce: str | None = None):
    """Start the login, 'log in' at the IdP, and come back to the callback. Returns the callback response."""
    start = browser.get("/oidc/authenticate/")
    assert start.status_code == 302
    location = urlparse(start["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{idp.base}/authorize"
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == "http://testserver/oidc/callback/"
    code = idp.authorize(nonce if nonce is not None else params["nonce"], claims)
    return browser.get("/oidc/callback/", {"code": code, "state": params["state"]})


def logged_in_user(browser: Client):
    user_id = browser.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id) if user_id else None


def test_first_login_creates_the_user_from_the_claims(db, idp):
    browser = Client()
    response = oidc_login(browser, idp, ADA)
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(cuid="ada@myaccessid.org")
    assert (user.full_name, user.email, user.registration_method) == ("Ada Lovelace", "ada@example.org", "oidc")
    assert not user.has_usable_password()
    assert logged_in_user(browser) == user
    assert idp.token_requests[0]["redirect_uri"] == "http://testserver/oidc/callback/"
    home = browser.get("/")
    assert home.status_code == 200
    assert b"Ada Lovelace" in home.content or b"ada@myaccessid.org" in home.content


def test_second_login_updates_name_and_email(db, idp):
    oidc_login(Client(), idp, ADA)
    first = User.objects.get(cuid="ada@myaccessid.org")
    browser = Client()
    oidc_login(browser, idp, {**ADA, "email": "ada@new.example.org", "name": "Ada King"})
    user = User.objects.get(cuid="ada@myaccessid.org")
    assert user.pk == first.pk
    assert (user.full_name, user.email) == ("Ada King", "ada@new.example.org")
    assert logged_in_user(browser) == user
    assert User.objects.count() == 1


def test_existing_user_with_that_cuid_is_logged_in(db, idp):
    user = UserFactory(username="ada", cuid="ada@myaccessid.org")
    browser = Client()
    oidc_login(browser, idp, ADA)
    assert logged_in_user(browser) == user


def refused(browser: Client, response) -> bool:
    return response.status_code in (302, 400) and logged_in_user(browser) is None


def test_token_signed_by_another_key_is_refused(db, idp):
    idp.signing_key = new_key()
    browser = Client()
    response = oidc_login(browser, idp, ADA)
    assert refused(browser, response)
    assert not User.objects.filter(cuid="ada@myaccessid.org").exists()


def test_wrong_nonce_is_refused(db, idp):
    browser = Client()
    assert refused(browser, oidc_login(browser, idp, ADA, nonce="replayed-nonce"))
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "override",
    [
        {"aud": "another-client"},
        {"exp": int(time.time()) - 600},
        {"iss": "https://impostor.example.org"},
    ],
    ids=["audience", "expired", "issuer"],
)
def test_id_token_with_bad_claims_is_refused(db, idp, override):
    idp.id_token_overrides = override
    browser = Client()
    assert refused(browser, oidc_login(browser, idp, ADA))
    assert not User.objects.exists()


def test_userinfo_for_another_subject_is_refused(db, idp):
    idp.userinfo_overrides = {"sub": "mallory@myaccessid.org"}
    browser = Client()
    assert refused(browser, oidc_login(browser, idp, ADA))
    assert not User.objects.exists()


def test_unknown_state_is_refused(db, idp):
    browser = Client()
    browser.get("/oidc/authenticate/")
    response = browser.get("/oidc/callback/", {"code": "x", "state": "not-ours"})
    assert refused(browser, response)


def test_local_account_with_the_cuid_as_username_is_refused_not_an_error(db, idp):
    UserFactory(username="ada@myaccessid.org")
    browser = Client()
    assert refused(browser, oidc_login(browser, idp, ADA))


def test_inactive_user_is_refused(db, idp):
    UserFactory(username="ada", cuid="ada@myaccessid.org", is_active=False)
    browser = Client()
    assert refused(browser, oidc_login(browser, idp, ADA))


def test_unreachable_provider_is_a_failed_login_not_an_error(db, idp, closed_port_url):
    browser = Client()
    with override_settings(OIDC_OP_TOKEN_ENDPOINT=f"{closed_port_url}/token"):
        assert refused(browser, oidc_login(browser, idp, ADA))


def test_login_page_offers_oidc_when_enabled(db, idp):
    page = Client().get("/login/")
    assert page.status_code == 200
    assert b"/oidc/authenticate/" in page.content


# --- local accounts and the portal -------------------------------------------------------------


def test_login_page_without_oidc(db):
    with override_settings(OIDC_ENABLED=False):
        page = Client().get("/login/")
    assert page.status_code == 200
    assert b"/oidc/authenticate/" not in page.content


def test_local_login_and_logout(db):
    user = UserFactory(username="local")
    browser = Client()
    response = browser.post("/login/", {"username": "local", "password": "secret-pass-123"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user(browser) == user
    browser.post("/logout/")
    assert logged_in_user(browser) is None


def test_local_login_with_wrong_password(db):
    UserFactory(username="local")
    browser = Client()
    response = browser.post("/login/", {"username": "local", "password": "wrong"})
    assert response.status_code == 200
    assert b"did not match" in response.content
    assert logged_in_user(browser) is None


def test_portal_home_requires_login(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_portal_home_lists_only_visible_projects(db, member, project):
    hidden = ProjectFactory(name="Secret weapons")
    browser = Client()
    browser.force_login(member)
    page = browser.get("/")
    assert page.status_code == 200
    assert project.name.encode() in page.content
    assert hidden.name.encode() not in page.content
    assert browser.get(f"/projects/{project.uuid}/").status_code == 200
    assert browser.get(f"/projects/{hidden.uuid}/").status_code == 404


def test_portal_home_filters_and_ignores_bad_filters(db, owner, customer):
    ProjectFactory(customer=customer, name="Alpha")
    ProjectFactory(customer=customer, name="Beta")
    browser = Client()
    browser.force_login(owner)
    page = browser.get("/", {"name": "alp"})
    assert b"Alpha" in page.content and b"Beta" not in page.content
    assert browser.get("/", {"customer": "not-a-uuid", "o": "bogus"}).status_code == 200


def test_portal_session_also_works_for_the_api(db, member, project):
    browser = Client()
    browser.force_login(member)
    response = browser.get("/api/projects/")
    assert response.status_code == 200
    assert [p["uuid"] for p in json.loads(response.content)] == [str(project.uuid)]


def test_expired_role_hides_the_project_in_the_portal(db, customer):
    from datetime import timedelta

    from django.utils import timezone

    user = UserFactory()
    project = ProjectFactory(customer=customer, name="Gone soon")
    grant(user, project, RoleName.PROJECT_MEMBER, expiration_time=timezone.now() - timedelta(seconds=1))
    browser = Client()
    browser.force_login(user)
    assert b"Gone soon" not in browser.get("/").content


def test_oidc_routes_answer_404_while_oidc_is_not_configured(db):
    with override_settings(OIDC_ENABLED=False):
        for path in ("/oidc/authenticate/", "/oidc/callback/", "/oidc/logout/"):
            response = Client().get(path)
            assert response.status_code == 404, path
            assert "Location" not in response
