"""The portal's own 403 page, for a PermissionDenied outside the API and for a form sent without its CSRF
token; under /api/ a refusal keeps answering JSON."""

import html

import pytest
from django.test import Client

from tests.factories import UserFactory


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_member_adding_members_gets_the_portal_403_page_with_the_reason(member, project, settings):
    settings.DEBUG = False
    client = Client()
    client.force_login(member)
    response = client.post(f"/projects/{project.uuid}/members/add/", {"identifier": "x@example.org"})
    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")
    body = text(response)
    assert '<h1 id="error-title">You may not do this here</h1>' in body
    assert "<p>You may not add members here.</p>" in body  # the reason the view gave
    assert 'href="/static/federation/portal.css"' in body and 'rel="icon"' in body
    assert str(member) in body and "Log out" in body  # rendered with the request: the header knows the user


@pytest.mark.urls("tests.marketplace.error_urls")
def test_a_refusal_outside_the_api_is_the_403_page_and_under_the_api_is_json(db, settings):
    settings.DEBUG = False
    client = Client()
    client.force_login(UserFactory(username="reader"))
    page = client.get("/forbidden/")
    assert page.status_code == 403 and "Only the site&#x27;s operators may open this." in page.content.decode()
    assert "You may not do this here" in text(page)
    api = client.get("/api/forbidden/")
    assert api.status_code == 403 and api["Content-Type"] == "application/json"
    assert api.json() == {"detail": "Only the site's operators may open this."}


def test_a_form_without_its_csrf_token_gets_the_portal_page(manager, project, settings):
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post(f"/projects/{project.uuid}/members/add/", {"identifier": "x@example.org"})
    assert response.status_code == 403
    body = text(response)
    assert "This form could not be accepted" in body and "Nothing was changed." in body
    assert 'href="/static/federation/portal.css"' in body
    assert "CSRF" not in body  # no jargon
