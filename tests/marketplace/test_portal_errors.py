"""The portal's own 404 and 500 pages and its favicon; the API keeps answering JSON for both errors."""

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.factories import UserFactory


def test_an_unknown_page_shows_the_portal_404_page(db, settings):
    settings.DEBUG = False
    client = Client()
    client.force_login(UserFactory(username="reader", full_name="Ada Reader"))
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert '<h1 id="error-title">Page not found</h1>' in body
    assert 'href="/static/federation/portal.css"' in body and 'rel="icon"' in body
    assert "Ada Reader" in body and "Log out" in body  # rendered with the request: the header knows the user


def test_an_object_not_visible_shows_the_same_page(member, settings):
    settings.DEBUG = False
    client = Client()
    client.force_login(member)
    response = client.get("/resources/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()


@pytest.mark.urls("tests.marketplace.error_urls")
def test_an_uncaught_error_shows_the_portal_500_page_without_a_request(db, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="reader", full_name="Ada Reader"))
    response = client.get("/broken/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Something went wrong on our side" in body and 'href="/static/federation/portal.css"' in body
    assert "Ada Reader" not in body and "Log in" in body  # no request context: the header is the anonymous one
    assert "a bug" not in body and "Traceback" not in body


@pytest.mark.urls("tests.marketplace.error_urls")
@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [("/api/broken/", 500, "Server error."), ("/api/no-such-thing/", 404, "Not found.")],
)
def test_the_api_keeps_answering_json_errors(db, settings, path, status, detail):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json" and response.json() == {"detail": detail}


def test_the_favicon_is_a_static_svg_linked_from_every_page_and_at_favicon_ico(db):
    assert finders.find("federation/favicon.svg")
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/federation/favicon.svg"
    login_page = Client().get("/login/").content.decode()
    assert '<link rel="icon" href="/static/federation/favicon.svg" type="image/svg+xml">' in login_page
