"""Pause and resume handed to the provider: the outbox row in the change's transaction, the manifest
feature that allows it, and delivery to the real agent (local backend), idempotent by change_id."""

import sqlite3

import pytest
from django.db import transaction

from common.exceptions import Conflict
from events.models import Event
from marketplace import services as marketplace
from marketplace.models import OrderState, Resource
from protocol.messages import PauseChange
from providers import services
from providers.client import ProviderClient
from providers.models import OutboxMessage

from .harness import wait_for
from .stack import build_stack, stop_stack

CAN_PAUSE = {"provider_id": "site-a", "features": {"resources": {"pause": True}}}


def _ok_resource(site, ordering_manager, django_capture_on_commit_callbacks) -> Resource:
    with django_capture_on_commit_callbacks(execute=False):
        order = marketplace.order_create(
            actor=ordering_manager.user,
            project=ordering_manager.project,
            offering=site.offering,
            plan=site.offering.plans.first(),
            attributes={"name": "alloc"},
            limits={"cpu": 5},
        )
        assert order.state == OrderState.EXECUTING
        marketplace.order_set_state_done(order=order, actor=None, backend_id="local-alloc")
    return Resource.objects.get(pk=order.resource_id)


def _pauses():
    return list(OutboxMessage.objects.filter(kind=OutboxMessage.Kind.PAUSE).order_by("id"))


@pytest.mark.django_db
def test_pause_and_resume_write_signed_changes_in_growing_sequence(
    site, ordering_manager, django_capture_on_commit_callbacks
):
    site.provider.manifest = CAN_PAUSE
    site.provider.save()
    resource = _ok_resource(site, ordering_manager, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=False) as wakes:
        marketplace.resource_pause(resource=resource, actor=None, reason="budget spent")
        marketplace.resource_pause(resource=resource, actor=None)  # the system repeating itself: nothing new
        marketplace.resource_resume(resource=resource, actor=None)
    assert wakes, "the relay is woken after commit"

    pause, resume = _pauses()
    changes = [PauseChange.from_dict(row.payload) for row in (pause, resume)]
    assert [(c.paused, c.sequence, c.resource_uuid) for c in changes] == [
        (True, pause.id, str(resource.uuid)),
        (False, resume.id, str(resource.uuid)),
    ]
    assert changes[0].sequence < changes[1].sequence
    assert (changes[0].reason, changes[0].backend_id) == ("budget spent", "local-alloc")
    assert changes[0].change_id != changes[1].change_id
    assert {row.provider_id for row in (pause, resume)} == {site.provider.id}


@pytest.mark.django_db
def test_a_pause_for_a_provider_costs_a_fixed_number_of_queries(
    site, ordering_manager, django_capture_on_commit_callbacks, django_assert_num_queries
):
    site.provider.manifest = CAN_PAUSE
    site.provider.save()
    resource = _ok_resource(site, ordering_manager, django_capture_on_commit_callbacks)
    # savepoint, the locked resource, the update, the event, the provider (with its link), the outbox
    # row and its payload (the row's id is the sequence), release.
    with django_capture_on_commit_callbacks(execute=False), django_assert_num_queries(8):
        marketplace.resource_pause(resource=resource.uuid, actor=None)


@pytest.mark.django_db
def test_the_outbox_row_shares_the_transaction_of_the_change(
    site, ordering_manager, django_capture_on_commit_callbacks
):
    site.provider.manifest = CAN_PAUSE
    site.provider.save()
    resource = _ok_resource(site, ordering_manager, django_capture_on_commit_callbacks)
    with pytest.raises(RuntimeError), transaction.atomic():
        marketplace.resource_pause(resource=resource, actor=None)
        assert len(_pauses()) == 1
        raise RuntimeError("the caller's transaction fails after the pause")
    assert _pauses() == []
    assert Resource.objects.get(pk=resource.pk).paused is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "manifest",
    [{}, {"features": {"resources": {"pause": False}}}, {"features": {"compute": {"docker": {"enabled": True}}}}],
)
def test_a_provider_that_cannot_pause_is_a_conflict_and_changes_nothing(
    site, ordering_manager, django_capture_on_commit_callbacks, manifest
):
    site.provider.manifest = manifest
    site.provider.save()
    resource = _ok_resource(site, ordering_manager, django_capture_on_commit_callbacks)
    events = Event.objects.count()
    with pytest.raises(Conflict, match=f"provider {site.provider.name} cannot pause resources"):
        marketplace.resource_pause(resource=resource, actor=None)
    assert Resource.objects.get(pk=resource.pk).paused is False
    assert _pauses() == []
    assert Event.objects.count() == events


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_pause_reaches_the_agent_and_a_redelivery_changes_nothing(live_server, tmp_path):
    stack = build_stack(live_server, tmp_path)
    try:
        order = stack.order("paused-alloc")
        stack.approve(order["uuid"])
        assert stack.wait_final([order["uuid"]])[order["uuid"]].state == "done"
        resource = stack.resource(order["uuid"])
        assert services.manifest_pull(provider=stack.provider)
        stack.provider.refresh_from_db()
        assert stack.provider.manifest["features"]["resources"] == {"pause": True}

        paused = stack.api(
            "POST", f"/api/marketplace-resources/{resource.uuid}/pause/", token=stack.provider_owner_token
        )
        assert paused.status_code == 200, paused.text
        assert paused.json()["paused"] is True
        wait_for(lambda: _site_paused(tmp_path, resource.backend_id), timeout=30, message="the site to pause")
        row = wait_for(
            lambda: OutboxMessage.objects.filter(kind="pause", state="delivered").first(),
            timeout=30,
            message="the pause to be marked delivered",
        )

        # The same change again: acknowledged as a duplicate, not applied twice.
        answer = ProviderClient(stack.provider).submit_pauses([row.payload])
        assert answer == {"items": [{"change_id": row.payload["change_id"], "status": "duplicate"}]}

        resumed = stack.api(
            "POST", f"/api/marketplace-resources/{resource.uuid}/resume/", token=stack.provider_owner_token
        )
        assert resumed.status_code == 200, resumed.text
        wait_for(lambda: not _site_paused(tmp_path, resource.backend_id), timeout=30, message="the site to resume")
        assert stack.backend_calls("pause") == [str(resource.uuid)]
    finally:
        stop_stack(stack)


def _site_paused(tmp_path, backend_id: str) -> bool:
    db = sqlite3.connect(tmp_path / "agent-state.sqlite3")
    try:
        return db.execute("SELECT 1 FROM local_paused WHERE backend_id = ?", (backend_id,)).fetchone() is not None
    finally:
        db.close()
