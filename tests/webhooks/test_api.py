"""/api/hooks-web/: who may subscribe to what, who sees and changes a hook, the secret shown once,
bad input named by field, the deliveries of a hook, and fixed query counts."""

import base64
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from federation.models import RoleName
from tests.factories import UserFactory, grant
from webhooks import services
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hook"

# user → {scope: expected status}; "none" is a hook without a scope (every event)
MATRIX = {
    "owner": {"customer": 201, "project": 201, "order": 201, "resource": 201, "offering": 403, "none": 400},
    "manager": {"customer": 403, "project": 201, "order": 201, "resource": 201, "offering": 403, "none": 400},
    "member": {"customer": 403, "project": 403, "order": 403, "resource": 403, "offering": 403, "none": 400},
    "outsider": {"customer": 400, "project": 400, "order": 400, "resource": 400, "offering": 403, "none": 400},
    "provider_owner": {"customer": 400, "project": 400, "order": 403, "resource": 403, "offering": 201, "none": 400},
    "staff": {"customer": 201, "project": 201, "order": 201, "resource": 201, "offering": 201, "none": 201},
    "support": {"customer": 403, "project": 403, "order": 403, "resource": 403, "offering": 403, "none": 403},
}
CASES = [(user, scope, status) for user, row in MATRIX.items() for scope, status in row.items()]


@pytest.fixture
def people(request, owner, manager, member, outsider, staff, support, provision):
    return {
        "owner": owner,
        "manager": manager,
        "member": member,
        "outsider": outsider,
        "provider_owner": provision.provider_owner,
        "staff": staff,
        "support": support,
    }


@pytest.fixture
def scopes(customer, project, provision):
    return {
        "customer": str(customer.uuid),
        "project": str(project.uuid),
        "order": str(provision.order.uuid),
        "resource": str(provision.resource.uuid),
        "offering": str(provision.offering.uuid),
    }


@pytest.mark.parametrize(("user", "scope", "expected"), CASES, ids=[f"{u}-{s}" for u, s, _ in CASES])
def test_who_may_subscribe_to_what(api, people, scopes, user, scope, expected):
    body = {"destination_url": URL, "event_types": ["marketplace_order_completed"]}
    if scope != "none":
        body.update(scope_type=scope, scope_uuid=scopes[scope])
    response = api.as_user(people[user]).post("/api/hooks-web/", body, format="json")
    assert response.status_code == expected, response.content
    if expected == 201:
        hook = Webhook.objects.get()
        assert hook.created_by == people[user] and hook.scope_type == ("" if scope == "none" else scope)
        assert response.json()["scope_uuid"] == (None if scope == "none" else scopes[scope])
    else:
        assert not Webhook.objects.exists()  # a refused request changes nothing
    if expected == 400:
        assert set(response.json()) == {"scope_type" if scope == "none" else "scope_uuid"}


def test_the_secret_is_shown_once(api, owner, customer):
    client = api.as_user(owner)
    created = client.post(
        "/api/hooks-web/", {"destination_url": URL, "scope_type": "customer", "scope_uuid": str(customer.uuid)}
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    hook = Webhook.objects.get()
    assert hook.secret == secret
    detail = f"/api/hooks-web/{hook.uuid}/"
    answers = [
        client.get("/api/hooks-web/").json()[0],
        client.get(detail).json(),
        client.patch(detail, {"event_types": ["role_granted"]}, format="json").json(),
        client.patch(detail, {"is_active": False}, format="json").json(),
        client.post(detail + "enable/").json(),
    ]
    for answer in answers:
        assert "secret" not in answer and secret not in str(answer)
    other = client.post(
        "/api/hooks-web/", {"destination_url": URL, "scope_type": "customer", "scope_uuid": str(customer.uuid)}
    )
    assert other.json()["secret"] != secret


def test_a_hook_is_seen_by_its_creator_staff_and_support(api, owner, customer, staff, support, hook_for):
    other_owner = UserFactory(username="co-owner")
    grant(other_owner, customer, RoleName.CUSTOMER_OWNER)
    mine = hook_for(owner, "customer", customer.uuid)
    theirs = hook_for(other_owner, "customer", customer.uuid)
    assert [h["uuid"] for h in api.as_user(owner).get("/api/hooks-web/").json()] == [str(mine.uuid)]
    assert api.as_user(owner).get(f"/api/hooks-web/{theirs.uuid}/").status_code == 404
    for reader in (staff, support):
        listed = api.as_user(reader).get("/api/hooks-web/")
        assert {h["uuid"] for h in listed.json()} == {str(mine.uuid), str(theirs.uuid)}
    answer = api.as_user(owner).get(f"/api/hooks-web/{mine.uuid}/").json()
    assert answer["created_by_username"] == "owner" and answer["url"].endswith(f"/api/hooks-web/{mine.uuid}/")


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("patch", "", {"event_types": []}), ("delete", "", None), ("post", "enable/", None)],
)
def test_only_the_creator_and_staff_change_a_hook(api, owner, customer, staff, support, method, suffix, body):
    hook = services.webhook_create(actor=owner, destination_url=URL, scope_type="customer", scope_uuid=customer.uuid)
    services.webhook_disable(hook_id=hook.id, reason="Test.")
    path = f"/api/hooks-web/{hook.uuid}/{suffix}"
    co_owner = UserFactory(username="co-owner")
    grant(co_owner, customer, RoleName.CUSTOMER_OWNER)
    for user, status in ((co_owner, 404), (support, 403)):
        response = getattr(api.as_user(user), method)(path, body, format="json")
        assert response.status_code == status, response.content
        assert Webhook.objects.filter(id=hook.id, is_active=False).exists()  # unchanged
    for user in (staff, owner):
        response = getattr(api.as_user(user), method)(path, body, format="json")
        assert response.status_code in (200, 204), response.content
        if method != "delete":
            services.webhook_disable(hook_id=hook.id, reason="Test.")
            assert api.as_user(user).get(f"/api/hooks-web/{hook.uuid}/").status_code == 200
        else:
            assert not Webhook.objects.filter(id=hook.id).exists()
            break


def test_turning_off_and_on_and_enable(api, owner, customer, hook_for):
    hook = hook_for(owner, "customer", customer.uuid)
    pending = WebhookDelivery.objects.create(
        hook=hook, event_uuid=uuid.uuid4(), event_type="role_granted", payload={}, next_attempt_at=timezone.now()
    )
    client = api.as_user(owner)
    path = f"/api/hooks-web/{hook.uuid}/"
    assert client.post(path + "enable/").status_code == 409  # active already
    off = client.patch(path, {"is_active": False}, format="json").json()
    assert off["is_active"] is False and off["disabled_reason"] == "Turned off by owner."
    pending.refresh_from_db()
    assert pending.state == "failed" and pending.last_error == "Not sent: the hook was disabled."
    Webhook.objects.filter(id=hook.id).update(consecutive_failures=7)
    on = client.post(path + "enable/")
    assert on.status_code == 200
    assert (on.json()["is_active"], on.json()["disabled_reason"], on.json()["consecutive_failures"]) == (True, "", 0)
    client.patch(path, {"is_active": False}, format="json")
    assert client.patch(path, {"is_active": True}, format="json").json()["is_active"] is True


def test_changing_url_and_types_is_checked_like_creating(api, owner, customer, hook_for, settings):
    hook = hook_for(owner, "customer", customer.uuid)
    client = api.as_user(owner)
    path = f"/api/hooks-web/{hook.uuid}/"
    answer = client.patch(path, {"event_types": ["role_granted", "role_granted", "role_revoked"]}, format="json")
    assert answer.json()["event_types"] == ["role_granted", "role_revoked"]
    bad = client.patch(path, {"event_types": ["role_granted", "no_such_event"]}, format="json")
    assert bad.status_code == 400 and bad.json() == {"event_types": ["Unknown event types: no_such_event."]}
    settings.WEBHOOK_ALLOWED_HOSTS = []
    bad = client.patch(path, {"destination_url": "http://10.0.0.8/hook"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"destination_url"}
    hook.refresh_from_db()
    assert hook.event_types == ["role_granted", "role_revoked"] and hook.destination_url == URL


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"event_types": ["role_granted", "nope", "also_nope"]},
            "event_types",
            "Unknown event types: also_nope, nope.",
        ),
        ({"event_types": "role_granted"}, "event_types", None),
        ({"destination_url": "ftp://127.0.0.1/hook"}, "destination_url", "Only http and https URLs are accepted."),
        ({"destination_url": "not a url"}, "destination_url", None),
        ({"destination_url": None}, "destination_url", None),
        ({"scope_type": "galaxy"}, "scope_type", None),
        ({"scope_uuid": None}, "scope_uuid", "Give the uuid of the object the hook follows."),
        ({"scope_uuid": "not-a-uuid"}, "scope_uuid", None),
        ({"scope_type": ""}, "scope_type", "Give the type of the object the hook follows."),
        ({"scope_uuid": str(uuid.uuid4())}, "scope_uuid", "No customer with this uuid is visible to you."),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, owner, customer, body, field, message):
    request = {"destination_url": URL, "scope_type": "customer", "scope_uuid": str(customer.uuid), **body}
    response = api.as_user(owner).post("/api/hooks-web/", request, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == {field}
    if message:
        assert response.json()[field] == [message]
    assert not Webhook.objects.exists()


def _deliveries(hook, count):
    start = timezone.now() - timedelta(hours=1)
    rows = []
    for n in range(count):
        state = ("delivered", "pending", "failed")[n % 3]
        rows.append(
            WebhookDelivery(
                hook=hook,
                event_uuid=uuid.uuid4(),
                event_type="role_granted",
                payload={"type": "role_granted", "n": n},
                state=state,
                attempts=n % 3 + 1,
                last_error="" if state == "delivered" else "HTTP 503 Service Unavailable",
                last_status_code=200 if state == "delivered" else 503,
                next_attempt_at=start,
            )
        )
    WebhookDelivery.objects.bulk_create(rows)
    for n, row in enumerate(rows):  # `created` is auto_now_add: spread it so the order is known
        WebhookDelivery.objects.filter(id=row.id).update(created=start + timedelta(minutes=n))
    return rows


def test_deliveries_are_listed_newest_first_with_their_errors(api, owner, customer, hook_for, support):
    hook = hook_for(owner, "customer", customer.uuid)
    rows = _deliveries(hook, 6)
    _deliveries(hook_for(owner, "customer", customer.uuid), 2)  # another hook's
    path = f"/api/hooks-web/{hook.uuid}/deliveries/"
    answer = api.as_user(owner).get(path)
    assert answer.status_code == 200 and answer["X-Result-Count"] == "6"
    listed = answer.json()
    assert [d["event_uuid"] for d in listed] == [str(r.event_uuid) for r in reversed(rows)]
    assert listed[0] == {
        "event_uuid": str(rows[5].event_uuid),
        "event_type": "role_granted",
        "state": "failed",
        "attempts": 3,
        "next_attempt_at": listed[0]["next_attempt_at"],
        "last_error": "HTTP 503 Service Unavailable",
        "last_status_code": 503,
        "created": listed[0]["created"],
        "delivered_at": None,
        "payload": {"type": "role_granted", "n": 5},
    }
    failed = api.as_user(owner).get(path, {"state": ["failed", "pending"]}).json()
    assert {d["state"] for d in failed} == {"failed", "pending"} and len(failed) == 4
    assert api.as_user(owner).get(path, {"state": "exploded"}).status_code == 400
    assert api.as_user(support).get(path).status_code == 200
    outsider = UserFactory(username="nobody")
    assert api.as_user(outsider).get(path).status_code == 404


def test_hooks_are_filtered(api, staff, owner, customer, project, hook_for):
    on_customer = hook_for(owner, "customer", customer.uuid)
    on_project = hook_for(owner, "project", project.uuid)
    services.webhook_disable(hook_id=on_project.id, reason="Test.")
    client = api.as_user(staff)

    def uuids(**params):
        return [h["uuid"] for h in client.get("/api/hooks-web/", params).json()]

    assert uuids(is_active="false") == [str(on_project.uuid)]
    assert uuids(scope_type="customer") == [str(on_customer.uuid)]
    assert uuids(scope_uuid=str(project.uuid)) == [str(on_project.uuid)]
    assert len(uuids(created_by_uuid=str(owner.uuid))) == 2
    assert client.get("/api/hooks-web/", {"scope_type": "galaxy"}).status_code == 400


# --- query counts: 1 token lookup, then count and page (the hook's detail lookup for deliveries) ---


@pytest.mark.parametrize("user", ["owner", "staff", "support"])
def test_list_query_counts_are_pinned(api, request, django_assert_num_queries, owner, customer, hook_for, user):
    hooks = [hook_for(owner, "customer", customer.uuid) for _ in range(5)]
    _deliveries(hooks[0], 12)
    client = api.as_user(request.getfixturevalue(user))
    for page_size in (2, 10):
        with django_assert_num_queries(3):
            listed = client.get("/api/hooks-web/", {"page_size": page_size})
        assert len(listed.json()) == min(page_size, 5)
        with django_assert_num_queries(4):
            deliveries = client.get(f"/api/hooks-web/{hooks[0].uuid}/deliveries/", {"page_size": page_size})
        assert len(deliveries.json()) == page_size
        with django_assert_num_queries(2):
            assert client.get(f"/api/hooks-web/{hooks[1].uuid}/").status_code == 200
