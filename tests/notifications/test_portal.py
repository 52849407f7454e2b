"""The portal's notification settings page, and approving or rejecting an order from its page."""

import re

import pytest
from django.test import Client

from federation.models import User
from marketplace import services
from marketplace.models import Order, OrderState

pytestmark = pytest.mark.django_db

SETTINGS = "/settings/notifications/"


def browser(user) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def checked(page: str) -> set[str]:
    return set(re.findall(r'<input type="checkbox" name="(\w+)"[^>]*checked', page))


def test_settings_page_needs_a_login(db):
    response = Client().get(SETTINGS)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_every_page_links_to_the_settings(member):
    assert f'href="{SETTINGS}"' in browser(member).get("/").content.decode()


def test_the_page_shows_a_checkbox_per_kind_ticked_when_on(member):
    member.notification_settings = {"usage": False}
    member.save()
    page = browser(member).get(SETTINGS).content.decode()
    assert checked(page) == {"approvals", "order_outcomes", "membership", "ending"}
    assert 'name="usage"' in page and 'name="staff_copy"' not in page
    assert "Orders waiting for my approval" in page
    assert "<script" not in page and "style=" not in page and "<style" not in page  # CSP: nothing inline


def test_staff_see_the_copy_kind(staff):
    page = browser(staff).get(SETTINGS).content.decode()
    assert 'name="staff_copy"' in page and "staff_copy" not in checked(page)


def test_saving_unticks_and_ticks(member):
    client = browser(member)
    response = client.post(SETTINGS, {"order_outcomes": "on", "membership": "on", "ending": "on", "usage": "on"})
    assert response.status_code == 302 and response["Location"] == SETTINGS
    assert User.objects.get(id=member.id).notification_settings == {
        "approvals": False,
        "order_outcomes": True,
        "membership": True,
        "ending": True,
        "usage": True,
    }
    page = client.get(SETTINGS).content.decode()
    assert "Notification settings saved." in page and "approvals" not in checked(page)


def test_a_staff_only_kind_posted_by_someone_else_is_ignored(member):
    browser(member).post(SETTINGS, {"staff_copy": "on", "approvals": "on"})
    assert "staff_copy" not in User.objects.get(id=member.id).notification_settings


def test_read_only_accounts_see_why_nothing_changed(support):
    response = browser(support).post(SETTINGS, {})
    assert response.status_code == 200 and "read-only" in response.content.decode()
    assert User.objects.get(id=support.id).notification_settings == {}


# --- approving from the order's page -------------------------------------------------------------


def review_form(page: str) -> bool:
    return 'name="decision" value="approve"' in page


def test_the_approvers_see_the_review_buttons_and_nobody_else(people):
    order = people.place()
    url = f"/orders/{order.uuid}/"
    assert review_form(browser(people.manager).get(url).content.decode())
    assert review_form(browser(people.owner).get(url).content.decode())
    assert not review_form(browser(people.admin).get(url).content.decode())  # placed it; may not approve
    assert not review_form(browser(people.provider_owner).get(url).content.decode())  # not its turn yet
    services.order_approve_by_consumer(order=order, actor=people.manager)
    assert not review_form(browser(people.manager).get(url).content.decode())
    assert review_form(browser(people.provider_owner).get(url).content.decode())


def test_approving_for_the_consumer_then_the_provider(people):
    order = people.place()
    review = f"/orders/{order.uuid}/review/"
    response = browser(people.manager).post(review, {"side": "consumer", "decision": "approve"})
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.uuid}/"
    order.refresh_from_db()
    assert order.state == OrderState.PENDING_PROVIDER and order.consumer_reviewed_by == people.manager
    browser(people.provider_owner).post(review, {"side": "provider", "decision": "approve"})
    order.refresh_from_db()
    assert order.state == OrderState.EXECUTING and order.provider_reviewed_by == people.provider_owner


def test_rejecting(people):
    order = people.place()
    browser(people.owner).post(
        f"/orders/{order.uuid}/review/", {"side": "consumer", "decision": "reject", "reason": "Not this year."}
    )
    order.refresh_from_db()
    assert order.state == OrderState.REJECTED and order.consumer_reviewed_by == people.owner
    assert order.reject_reason == "Not this year."


def test_a_review_for_a_side_the_order_has_left_is_a_409_changing_nothing(people):
    """An approver who is also the provider's owner clicks an old page's button twice: the second
    click does not approve for the provider."""
    order = people.place()
    services.order_approve_by_consumer(order=order, actor=people.manager)
    response = browser(people.manager).post(
        f"/orders/{order.uuid}/review/", {"side": "consumer", "decision": "approve"}
    )
    assert response.status_code == 409 and "pending-provider" in response.content.decode()
    assert Order.objects.get(id=order.id).state == OrderState.PENDING_PROVIDER


@pytest.mark.parametrize("data", [{}, {"side": "consumer"}, {"side": "both", "decision": "approve"}])
def test_a_review_without_a_side_and_decision_is_a_400(people, data):
    order = people.place()
    response = browser(people.manager).post(f"/orders/{order.uuid}/review/", data)
    assert response.status_code == 400
    assert Order.objects.get(id=order.id).state == OrderState.PENDING_CONSUMER


def test_someone_who_may_not_approve_is_refused(people):
    order = people.place()
    response = browser(people.member).post(f"/orders/{order.uuid}/review/", {"side": "consumer", "decision": "approve"})
    assert response.status_code == 403
    assert Order.objects.get(id=order.id).state == OrderState.PENDING_CONSUMER


def test_an_order_one_cannot_see_is_404(people, outsider):
    order = people.place()
    response = browser(outsider).post(f"/orders/{order.uuid}/review/", {"side": "consumer", "decision": "approve"})
    assert response.status_code == 404


def test_the_review_needs_a_post_and_a_csrf_token(people):
    order = people.place()
    assert browser(people.manager).get(f"/orders/{order.uuid}/review/").status_code == 405
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.manager)
    response = client.post(f"/orders/{order.uuid}/review/", {"side": "consumer", "decision": "approve"})
    assert response.status_code == 403
    assert Order.objects.get(id=order.id).state == OrderState.PENDING_CONSUMER
