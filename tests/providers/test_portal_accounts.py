"""The portal's "Accounts at providers" page: who sees which provider, connected or not and as whom, in a
fixed number of queries; "Connect" asks the provider (with the way back) and forwards the browser."""

import pytest
from django.test import Client
from django.utils import timezone

from federation.models import RoleName
from providers.models import Provider, UserConnection
from tests.factories import ProjectFactory, UserFactory, grant, make_provider

from .connect_site import SiteServer, member_with_a_resource_at

pytestmark = pytest.mark.django_db

PAGE = "/accounts/providers/"
PAGE_QUERIES = 4  # session, user, providers (with their organisation), the person's connections


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def site_server():
    server = SiteServer()
    yield server
    server.close()


def connect(user, slug, client=None):
    return (client or browser(user)).post(f"{PAGE}{slug}/connect/")


def test_the_page_needs_a_login(db):
    response = Client().get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_page_lists_the_providers_ones_projects_use_with_the_local_username():
    used, connected = make_provider("site-used"), make_provider("site-linked")
    other = make_provider("site-other")  # used by no project of the member's
    member, _ = member_with_a_resource_at(used.offering)
    project = member.role_grants.get().project
    grant(UserFactory(username="someone"), project, RoleName.PROJECT_MANAGER)
    _member_in(member, connected)
    UserConnection.objects.create(
        user=member, provider=connected.provider, state="connected", username="mlocal", connected_at=timezone.now()
    )
    UserConnection.objects.create(user=member, provider=used.provider)  # started, never confirmed
    page = browser(member).get(PAGE).content.decode()
    assert "site-used" in page and "site-linked" in page and "site-other" not in page
    assert other.provider.slug not in page
    linked_row = page[page.index('id="provider-site-linked"') :].split("</tr>")[0]
    assert "Connected" in linked_row and '<strong class="local-username">mlocal</strong>' in linked_row
    assert 'aria-label="Connect another account at site-linked"' in linked_row
    used_row = page[page.index('id="provider-site-used"') :].split("</tr>")[0]
    assert "Not connected" in used_row and 'aria-label="Connect your account at site-used"' in used_row
    assert f'action="{PAGE}site-used/connect/"' in used_row


def _member_in(user, site):
    """Give `user`'s project a resource at `site` too."""
    from marketplace.models import Resource

    project = user.role_grants.get().project
    Resource.objects.create(
        name=f"at {site.provider.slug}", slug=site.provider.slug, offering=site.offering, project=project, state="OK"
    )


def test_someone_whose_projects_use_no_provider_is_told_so():
    loner = UserFactory(username="loner")
    grant(loner, ProjectFactory(name="Quiet"), RoleName.PROJECT_MEMBER)
    page = browser(loner).get(PAGE).content.decode()
    assert "Your projects use no provider yet" in page and "<table" not in page


@pytest.mark.parametrize("size", [1, 6])
def test_the_query_count_is_fixed(django_assert_num_queries, size):
    sites = [make_provider(f"site-{n}") for n in range(size)]
    member, _ = member_with_a_resource_at(sites[0].offering)
    for site in sites[1:]:
        _member_in(member, site)
    for site in sites[::2]:
        UserConnection.objects.create(user=member, provider=site.provider, state="connected", username="m")
    client = browser(member)
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(PAGE)
    assert response.status_code == 200 and response.content.decode().count("<tr id=") == size


def test_connect_asks_the_provider_with_the_way_back_and_forwards_the_browser(site_server):
    site = make_provider("site-conn", domain=site_server.domain)
    member, _ = member_with_a_resource_at(site.offering)
    response = connect(member, "site-conn")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<meta http-equiv="refresh" content="0; url=http://site.example.org/connect/abc">' in page
    assert '<a href="http://site.example.org/connect/abc">Continue to site-conn</a>' in page
    [body] = site_server.bodies
    assert body["return_url"] == f"http://testserver{PAGE}?connected=site-conn"
    assert body["user_uuid"] == str(member.uuid)
    assert UserConnection.objects.get(user=member).state == "pending"


def test_back_from_the_provider_the_page_tells_the_outcome():
    site = make_provider("site-back")
    member, _ = member_with_a_resource_at(site.offering)
    client = browser(member)
    assert "has not confirmed an account for you yet" in client.get(f"{PAGE}?connected=site-back").content.decode()
    UserConnection.objects.create(user=member, provider=site.provider, state="connected", username="mb")
    page = client.get(f"{PAGE}?connected=site-back").content.decode()
    assert "Your account at site-back is connected as <strong>mb</strong>." in page
    assert "connected as" not in client.get(f"{PAGE}?connected=unknown").content.decode().split("<main")[1].lower()


def test_a_provider_that_cannot_be_reached_is_an_error_on_its_row():
    site = make_provider("site-down")  # nothing listens at its address
    member, _ = member_with_a_resource_at(site.offering)
    response = connect(member, "site-down")
    assert response.status_code == 502
    page = response.content.decode()
    row = page[page.index('id="provider-site-down"') :].split("</tr>")[0]
    assert 'role="alert"' in row and "The provider could not start the connection" in row
    assert not UserConnection.objects.exists()


def test_a_disabled_provider_offers_no_connect_button():
    site = make_provider("site-off")
    Provider.objects.filter(pk=site.provider.pk).update(status=Provider.Status.MAINTENANCE)
    member, _ = member_with_a_resource_at(site.offering)
    page = browser(member).get(PAGE).content.decode()
    assert "Under maintenance: connecting is not possible now." in page
    assert "connect/" not in page.split('id="provider-site-off"')[1].split("</tr>")[0]


def test_connecting_where_ones_projects_use_nothing_is_a_404(site_server):
    make_provider("site-else", domain=site_server.domain)
    stranger = UserFactory(username="stranger")
    grant(stranger, ProjectFactory(name="Elsewhere"), RoleName.PROJECT_MEMBER)
    assert connect(stranger, "site-else").status_code == 404
    assert connect(stranger, "no-such-site").status_code == 404
    assert site_server.calls == 0 and not UserConnection.objects.exists()


def test_connect_is_a_post(site_server):
    site = make_provider("site-get", domain=site_server.domain)
    member, _ = member_with_a_resource_at(site.offering)
    assert browser(member).get(f"{PAGE}site-get/connect/").status_code == 405
    assert site_server.calls == 0
