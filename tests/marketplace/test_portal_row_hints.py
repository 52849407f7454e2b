"""The sign-in hint for how lists of orders and resources are asked for (`portal.row_hints`,
`listed_to`): it changes the SQL, never the rows. Everyone's lists hold what `visible_to` lets through
either way; signing in notes whether one owns a provider organisation with offerings, and the portal's
lists then ask by id for those who do not and, for those who do, with the OR of the row's project and
offering among lists read once."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from federation.models import RoleName
from marketplace.models import Order, OrderState, Resource
from marketplace.models.managers import signed_in_without_offerings
from portal.row_hints import SESSION_KEY
from tests.factories import CustomerFactory, ProjectFactory, UserFactory, catalogue_offering, grant

# PostgreSQL's forms (`common.sql.AmongIds`); elsewhere a plain IN.
BY_ID = '"id" = ANY(ARRAY('
BY_COLUMNS = '"offering_id" = ANY(ARRAY('


@pytest.fixture
def world(order_in, place, customer):
    """Orders and resources in two projects of the customer, one at another provider, one elsewhere."""
    order_in(OrderState.DONE, attributes={"name": "Ours, done"})
    order_in(OrderState.PENDING_CONSUMER, attributes={"name": "Ours, waiting"})
    elsewhere = ProjectFactory(customer=CustomerFactory(name="Elsewhere"))
    place(None, project=elsewhere, attributes={"name": "Theirs, our centre"})
    other_centre = catalogue_offering(customer=CustomerFactory(name="Other centre"), name="Cloud")
    place(None, project=elsewhere, offering=other_centre, plan=other_centre.plans.get())
    second = ProjectFactory(customer=customer, name="Second project")
    place(None, project=second, offering=other_centre, plan=other_centre.plans.get())


def _listed(user):
    return (
        set(Order.objects.listed_to(user).values_list("id", flat=True)),
        set(Resource.objects.listed_to(user).values_list("id", flat=True)),
    )


@pytest.mark.parametrize("who", ["manager", "member", "owner", "provider_owner", "outsider", "project_admin"])
def test_every_form_selects_the_same_rows(request, world, who):
    user = request.getfixturevalue(who)
    token = signed_in_without_offerings.set(None)
    try:
        with CaptureQueriesContext(connection) as by_columns_queries:
            by_columns = _listed(user)
        signed_in_without_offerings.set(str(user.pk))
        with CaptureQueriesContext(connection) as by_id_queries:
            by_id = _listed(user)
    finally:
        signed_in_without_offerings.reset(token)
    if connection.vendor == "postgresql":
        assert all(BY_ID in query["sql"] for query in by_id_queries)
        assert all(BY_COLUMNS in q["sql"] and BY_ID not in q["sql"] for q in by_columns_queries)
    plain = (
        set(Order.objects.visible_to(user).values_list("id", flat=True)),
        set(Resource.objects.visible_to(user).values_list("id", flat=True)),
    )
    assert by_id == plain
    assert by_columns == plain
    assert any(plain) or who == "outsider"


def test_a_hint_for_someone_else_is_not_applied(world, manager, provider_owner):
    token = signed_in_without_offerings.set(str(manager.pk))
    try:
        with CaptureQueriesContext(connection) as queries:
            list(Order.objects.listed_to(provider_owner))
    finally:
        signed_in_without_offerings.reset(token)
    assert BY_ID not in queries[-1]["sql"]


def test_the_anonymous_and_staff_list_as_they_see(world, staff):
    from django.contrib.auth.models import AnonymousUser

    assert not Order.objects.listed_to(AnonymousUser()).exists()
    assert set(Order.objects.listed_to(staff)) == set(Order.objects.all())


def test_signing_in_notes_whether_one_provides_offerings(world, manager, provider_owner):
    who = {}
    for user in (manager, provider_owner, UserFactory(username="owner-of-a-centre-without-offerings")):
        client = Client()
        client.force_login(user)
        who[user.username] = client.session[SESSION_KEY]
    assert who == {"manager": False, "provider-owner": True, "owner-of-a-centre-without-offerings": False}


@pytest.mark.parametrize(("who", "by_id"), [("manager", True), ("provider_owner", False)])
def test_the_orders_page_asks_by_id_only_for_those_who_provide_nothing(request, world, who, by_id):
    user = request.getfixturevalue(who)
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/orders/")
    assert response.status_code == 200
    # The state counts (whose sum is the page's count) and the page's ids read the orders one sees.
    orders = [q["sql"] for q in queries if q["sql"].startswith('SELECT "marketplace_order"."state"')]
    assert orders and (all((BY_ID in sql) is by_id for sql in orders) or connection.vendor != "postgresql")
    visible = Order.objects.visible_to(user).count()
    assert f"{visible} order" in response.content.decode() or visible == 0
    assert response.context["page"].paginator.count == visible


def test_a_provider_owner_without_offerings_at_sign_in_still_sees_them_later(world, provider):
    """A stale hint (offerings came after sign-in) keeps the rows right: only the form changes."""
    late = UserFactory(username="late-owner")
    centre = CustomerFactory(name="New centre")
    grant(late, centre, RoleName.CUSTOMER_OWNER)
    client = Client()
    client.force_login(late)
    assert client.session[SESSION_KEY] is False
    grant(late, provider, RoleName.CUSTOMER_OWNER)  # now owns the centre of every order in the world
    response = client.get("/orders/?page_size=200")
    page = response.content.decode()
    assert response.status_code == 200
    assert all(f"/orders/{order.uuid}/" in page for order in Order.objects.filter(offering__customer=provider))


def test_a_sign_in_for_an_api_token_leaves_no_session(api, provider_owner):
    response = api.post(
        "/api-auth/password/", {"username": "provider-owner", "password": "secret-pass-123"}, format="json"
    )
    assert response.status_code == 200 and response.json()["token"]
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_a_portal_sign_in_with_the_form_notes_the_hint(provider_owner, offering):
    client = Client()
    response = client.post("/login/", {"username": "provider-owner", "password": "secret-pass-123"})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] is True
