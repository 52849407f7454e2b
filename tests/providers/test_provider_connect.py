"""`POST /api/providers/<id>/connect/`: only those who can use an account there, and never a long wait."""

import time

import pytest
from django.test import override_settings

from federation.models import RoleName
from marketplace.models import Resource, ResourceState
from providers.models import Provider, UserConnection
from tests.factories import ProjectFactory, UserFactory, grant, make_provider

from .connect_site import SiteServer, member_with_a_resource_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_server():
    server = SiteServer()
    yield server
    server.close()


@pytest.fixture
def hanging_site():
    server = SiteServer(hang=True)
    yield server
    server.close()


def _connect(api, user, slug):
    return api.as_user(user).post(f"/api/providers/{slug}/connect/")


def test_only_staff_and_members_of_a_project_with_a_resource_there_may_connect(api, site_server, staff, support):
    site = make_provider("site-conn", domain=site_server.domain)
    member, resource = member_with_a_resource_at(site.offering)
    stranger = UserFactory(username="stranger")
    elsewhere = UserFactory(username="elsewhere")  # a member of a project without a resource there
    grant(elsewhere, ProjectFactory(name="Elsewhere"), RoleName.PROJECT_MEMBER)
    site_owner = UserFactory(username="site-owner")  # sees the provider, uses nothing there
    grant(site_owner, site.provider.customer, RoleName.CUSTOMER_OWNER)

    assert _connect(api, stranger, site.provider.slug).status_code == 404
    assert _connect(api, elsewhere, site.provider.slug).status_code == 404
    assert _connect(api, site_owner, site.provider.slug).status_code == 403
    assert _connect(api, support, site.provider.slug).status_code == 403  # support only reads
    assert site_server.calls == 0 and not UserConnection.objects.exists()

    for user in (member, staff):
        answer = _connect(api, user, site.provider.slug)
        assert answer.status_code == 200, answer.content
        assert answer.json()["redirect_url"] == "http://site.example.org/connect/abc"
    assert site_server.calls == 2
    assert set(UserConnection.objects.values_list("user__username", flat=True)) == {member.username, "staff"}

    Resource.objects.filter(id=resource.id).update(state=ResourceState.TERMINATED)
    assert _connect(api, member, site.provider.slug).status_code == 404
    assert site_server.calls == 2


def test_a_hanging_provider_holds_the_request_only_for_the_connect_timeout(api, hanging_site, staff):
    provider = make_provider("site-hang", domain=hanging_site.domain).provider
    started = time.monotonic()
    with override_settings(PROVIDER_CONNECT_TIMEOUT=1, PROVIDER_TIMEOUT=30):
        answer = _connect(api, staff, provider.slug)
    elapsed = time.monotonic() - started
    assert answer.status_code == 502, answer.content
    assert elapsed < 10, f"the request waited {elapsed:.1f} s for the provider"
    assert hanging_site.calls == 1 and not UserConnection.objects.exists()


def test_a_provider_known_to_be_down_is_not_called(api, site_server, staff):
    provider = make_provider("site-down", domain=site_server.domain).provider
    Provider.objects.filter(id=provider.id).update(available=False)
    answer = _connect(api, staff, provider.slug)
    assert answer.status_code == 502 and "not answering" in answer.json()["detail"]
    assert site_server.calls == 0
