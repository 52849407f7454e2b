"""Every order transition through the API: who may make it, from which state, and what it leaves behind."""

import pytest

from marketplace.models import Order, OrderState, StateChange

S = OrderState
ALLOWED_FROM = {
    "approve_by_consumer": {S.PENDING_CONSUMER: S.PENDING_PROVIDER},
    "reject_by_consumer": {S.PENDING_CONSUMER: S.REJECTED},
    "approve_by_provider": {S.PENDING_PROVIDER: S.EXECUTING},
    "reject_by_provider": {S.PENDING_PROVIDER: S.REJECTED},
    "cancel": {S.PENDING_CONSUMER: S.CANCELED, S.PENDING_PROVIDER: S.CANCELED},
    "set_state_executing": {S.PENDING_PROVIDER: S.EXECUTING},
    "set_state_done": {S.EXECUTING: S.DONE},
    "set_state_erred": {S.EXECUTING: S.ERRED},
}
BODIES = {"set_state_erred": {"error_message": "disk full", "error_traceback": "Traceback ..."}}
# Which fixture users may make each transition, and which visible users may not (403).
ALLOWED_ROLES = {
    "approve_by_consumer": ["manager", "owner", "staff"],
    "reject_by_consumer": ["manager", "owner", "staff"],
    "approve_by_provider": ["provider_owner", "staff"],
    "reject_by_provider": ["provider_owner", "staff"],
    "cancel": ["project_admin", "staff"],
    "set_state_executing": ["provider_owner", "staff"],
    "set_state_done": ["provider_owner", "staff"],
    "set_state_erred": ["provider_owner", "staff"],
}
DENIED_ROLES = {
    "approve_by_consumer": ["member", "project_admin", "provider_owner"],
    "reject_by_consumer": ["member", "project_admin", "provider_owner"],
    "approve_by_provider": ["manager", "owner", "member", "project_admin"],
    "reject_by_provider": ["manager", "owner", "project_admin"],
    "cancel": ["manager", "member", "provider_owner"],
    "set_state_executing": ["manager", "owner"],
    "set_state_done": ["manager", "owner", "project_admin"],
    "set_state_erred": ["manager", "owner"],
}


def url(order, action):
    return f"/api/marketplace-orders/{order.uuid}/{action}/"


@pytest.mark.parametrize(
    ("action", "from_state", "to_state", "role"),
    [
        (action, from_state, to_state, role)
        for action, moves in ALLOWED_FROM.items()
        for from_state, to_state in moves.items()
        for role in ALLOWED_ROLES[action]
    ],
)
def test_allowed_transition(api, request, order_in, action, from_state, to_state, role):
    order = order_in(from_state)
    user = request.getfixturevalue(role)
    response = api.as_user(user).post(url(order, action), BODIES.get(action, {}), format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == to_state
    last = StateChange.objects.filter(order=order).last()
    assert (last.from_state, last.to_state, last.actor) == (from_state, to_state, user)
    if action.endswith("_by_consumer"):
        assert body["consumer_reviewed_by_username"] == user.username and body["consumer_reviewed_at"]
    if action in ("approve_by_provider", "reject_by_provider", "set_state_executing"):
        assert body["provider_reviewed_by_username"] == user.username and body["provider_reviewed_at"]
    if action == "set_state_erred":
        assert (body["error_message"], body["error_traceback"]) == ("disk full", "Traceback ...")
    if to_state in (S.DONE, S.ERRED, S.CANCELED, S.REJECTED):
        assert body["completed_at"]


@pytest.mark.parametrize(
    ("action", "state"),
    [(action, state) for action, moves in ALLOWED_FROM.items() for state in S.values if state not in moves],
)
def test_illegal_transition_is_409_and_changes_nothing(api, staff, order_in, action, state):
    order = order_in(state)
    before = Order.objects.values().get(pk=order.pk)
    history = StateChange.objects.count()
    response = api.as_user(staff).post(url(order, action), BODIES.get(action, {}), format="json")
    assert response.status_code == 409
    assert f"it is {state}" in response.json()["detail"]
    assert Order.objects.values().get(pk=order.pk) == before
    assert StateChange.objects.count() == history


@pytest.mark.parametrize(
    ("action", "role"), [(action, role) for action, roles in DENIED_ROLES.items() for role in roles]
)
def test_visible_but_not_allowed_is_403(api, request, order_in, action, role):
    from_state = next(iter(ALLOWED_FROM[action]))
    order = order_in(from_state)
    response = api.as_user(request.getfixturevalue(role)).post(
        url(order, action), BODIES.get(action, {}), format="json"
    )
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).state == from_state


@pytest.mark.parametrize("action", list(ALLOWED_FROM))
def test_invisible_order_is_404(api, outsider, order_in, action):
    order = order_in(next(iter(ALLOWED_FROM[action])))
    assert api.as_user(outsider).post(url(order, action), BODIES.get(action, {}), format="json").status_code == 404
    assert api.as_user(outsider).get(f"/api/marketplace-orders/{order.uuid}/").status_code == 404


def test_erred_needs_an_error_message(api, provider_owner, order_in):
    order = order_in(S.EXECUTING)
    response = api.as_user(provider_owner).post(url(order, "set_state_erred"), {}, format="json")
    assert response.status_code == 400
    assert "error_message" in response.json()


def test_history_is_readable_from_the_api(api, manager, order_in):
    order = order_in(S.DONE)
    response = api.as_user(manager).get(f"/api/marketplace-state-changes/?order_uuid={order.uuid}")
    assert response.status_code == 200
    assert [(c["from_state"], c["to_state"]) for c in response.json()] == [
        ("", S.PENDING_CONSUMER),
        (S.PENDING_CONSUMER, S.PENDING_PROVIDER),
        (S.PENDING_PROVIDER, S.EXECUTING),
        (S.EXECUTING, S.DONE),
    ]
    resource_changes = api.as_user(manager).get(f"/api/marketplace-state-changes/?resource_uuid={order.resource.uuid}")
    assert [(c["from_state"], c["to_state"]) for c in resource_changes.json()] == [("", "Creating"), ("Creating", "OK")]
