"""The admin: catalogue pages render; order actions go through the same services."""

import pytest

from marketplace.models import Order, OrderState, Resource, ResourceState


@pytest.fixture
def admin_client_for(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    return client


def act(client, action, order):
    return client.post("/admin/marketplace/order/", {"action": action, "_selected_action": [order.pk]}, follow=True)


def test_admin_pages_render(admin_client_for, ok_resource, offering, plan):
    order = ok_resource.orders.get()
    for url in (
        "/admin/marketplace/offering/",
        f"/admin/marketplace/offering/{offering.pk}/change/",
        f"/admin/marketplace/plan/{plan.pk}/change/",
        "/admin/marketplace/order/",
        f"/admin/marketplace/order/{order.pk}/change/",
        "/admin/marketplace/resource/",
        f"/admin/marketplace/resource/{ok_resource.pk}/change/",
        "/admin/marketplace/statechange/",
    ):
        assert admin_client_for.get(url).status_code == 200, url


def test_admin_actions_use_the_services(admin_client_for, staff, order_in):
    order = order_in(OrderState.PENDING_CONSUMER)
    act(admin_client_for, "approve_by_consumer", order)
    act(admin_client_for, "approve_by_provider", order)
    order.refresh_from_db()
    assert order.state == OrderState.EXECUTING and order.provider_reviewed_by == staff
    act(admin_client_for, "mark_done", order)
    assert Order.objects.get(pk=order.pk).state == OrderState.DONE
    assert Resource.objects.get(pk=order.resource_id).state == ResourceState.OK

    erring = order_in(OrderState.EXECUTING)
    act(admin_client_for, "mark_erred", erring)
    erring.refresh_from_db()
    assert erring.state == OrderState.ERRED and "in the admin" in erring.error_message

    rejected = order_in(OrderState.PENDING_PROVIDER)
    asked = act(admin_client_for, "reject", rejected)
    assert 'name="reason"' in asked.content.decode()  # first the reason is asked for, nothing changes
    assert Order.objects.get(pk=rejected.pk).state == OrderState.PENDING_PROVIDER
    admin_client_for.post(
        "/admin/marketplace/order/",
        {"action": "reject", "_selected_action": [rejected.pk], "apply": "Reject", "reason": "No capacity left."},
        follow=True,
    )
    rejected.refresh_from_db()
    assert rejected.state == OrderState.REJECTED and rejected.reject_reason == "No capacity left."


def test_admin_reject_without_a_reason_asks_again(admin_client_for, order_in):
    order = order_in(OrderState.PENDING_PROVIDER)
    answer = admin_client_for.post(
        "/admin/marketplace/order/",
        {"action": "reject", "_selected_action": [order.pk], "apply": "Reject", "reason": " "},
        follow=True,
    )
    assert "This field is required." in answer.content.decode()
    assert Order.objects.get(pk=order.pk).state == OrderState.PENDING_PROVIDER


def test_admin_action_reports_wrong_state(admin_client_for, order_in):
    order = order_in(OrderState.DONE)
    response = act(admin_client_for, "approve_by_provider", order)
    assert "it is done" in response.content.decode()
    assert Order.objects.get(pk=order.pk).state == OrderState.DONE


def test_admin_rejects_invalid_options_schema(admin_client_for, offering):
    from marketplace.admin import OfferingForm

    data = {
        "name": offering.name,
        "customer": offering.customer.pk,
        "type": "manual",
        "state": "Active",
        "options": '{"options": {"x": {"type": "blob"}}}',
    }
    form = OfferingForm(data=data, instance=offering)
    assert not form.is_valid() and "type must be one of" in str(form.errors["options"])
