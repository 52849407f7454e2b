"""Rejecting with a reason: the portal asks for it, the order keeps it, its page, history, event and the
creator's mail tell it; the API takes it optionally (an old client sending no body still rejects)."""

import pytest
from django.test import Client

from common.exceptions import ValidationFailed
from events.models import Event
from marketplace import services
from marketplace.models import Order, OrderState, StateChange
from notifications.models import MailNotification

pytestmark = pytest.mark.django_db

REASON = "The project already holds 500 k-hours at this centre;\nplease resize that allocation instead."


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def review(user, order, **data):
    return browser(user).post(f"/orders/{order.uuid}/review/", data)


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_the_portal_refuses_a_rejection_without_a_reason_and_changes_nothing(people, reason):
    order = people.place()
    before = Order.objects.values().get(pk=order.pk)
    response = review(people.manager, order, side="consumer", decision="reject", reason=reason)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give a reason for rejecting the order; it is shown to the person who placed it." in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="reject-reason-help reject-reason-error"' in page
    assert Order.objects.values().get(pk=order.pk) == before
    assert not StateChange.objects.filter(order=order, to_state=OrderState.REJECTED).exists()


def test_the_order_page_offers_a_labelled_reason_with_the_reject_button(people):
    order = people.place()
    page = browser(people.manager).get(f"/orders/{order.uuid}/").content.decode()
    assert '<label for="reject-reason">Reason for rejecting</label>' in page
    assert 'id="reject-reason" name="reason"' in page and "required" in page
    assert f"Shown to {people.admin} on the order" in page


@pytest.mark.parametrize("side", ["consumer", "provider"])
def test_a_rejection_keeps_its_reason_and_tells_the_creator(people, dispatch, side):
    order = people.place()
    reviewer = people.manager if side == "consumer" else people.provider_owner
    if side == "provider":
        services.order_approve_by_consumer(order=order, actor=people.manager)
    response = review(reviewer, order, side=side, decision="reject", reason=f"  {REASON}  ")
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.uuid}/"

    order.refresh_from_db()
    assert order.state == OrderState.REJECTED and order.reject_reason == REASON
    change = StateChange.objects.filter(order=order).last()
    assert change.message == f"Rejected by the {side}: {REASON}" and change.actor == reviewer
    event = Event.objects.get(event_type="marketplace_order_rejected")
    assert event.context["reject_reason"] == REASON

    # The creator reads it on the order's page, with who rejected it for which side.
    page = browser(people.admin).get(f"/orders/{order.uuid}/").content.decode()
    assert "Reason for rejecting" in page
    assert "The project already holds 500 k-hours at this centre;<br>please resize that allocation instead." in page
    heading = "Rejected for the project" if side == "consumer" else "Rejected by the provider"
    assert f"<th>{heading}</th>" in page and f"by {reviewer}</td>" in page
    if side == "consumer":
        assert "Approved for the project" not in page  # a consumer's rejection is no approval

    # … and in the mail.
    dispatch()
    row = MailNotification.objects.get(event_type="marketplace_order_rejected")
    assert row.user == people.admin
    assert f"The reason given:\n{REASON}" in row.body


def test_a_rejection_without_a_reason_says_so_in_the_mail(people, dispatch):
    order = people.place()
    services.order_reject_by_consumer(order=order, actor=people.manager)
    dispatch()
    row = MailNotification.objects.get(event_type="marketplace_order_rejected")
    assert "No reason was given." in row.body
    assert Order.objects.get(pk=order.pk).reject_reason == ""


def test_the_service_refuses_an_over_long_reason_and_changes_nothing(people):
    order = people.place()
    with pytest.raises(ValidationFailed) as refused:
        services.order_reject_by_consumer(order=order, actor=people.manager, reason="x" * 2001)
    assert refused.value.field == "reason"
    assert Order.objects.get(pk=order.pk).state == OrderState.PENDING_CONSUMER


@pytest.mark.parametrize(("body", "expected"), [({}, ""), ({"reason": "Out of budget."}, "Out of budget.")])
def test_the_api_takes_an_optional_reason(api, people, body, expected):
    order = people.place()
    response = api.as_user(people.manager).post(
        f"/api/marketplace-orders/{order.uuid}/reject_by_consumer/", body, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == OrderState.REJECTED and response.json()["reject_reason"] == expected


def test_the_api_refuses_an_over_long_reason(api, people):
    order = people.place()
    response = api.as_user(people.manager).post(
        f"/api/marketplace-orders/{order.uuid}/reject_by_consumer/", {"reason": "x" * 2001}, format="json"
    )
    assert response.status_code == 400 and "reason" in response.json()
    assert Order.objects.get(pk=order.pk).state == OrderState.PENDING_CONSUMER
