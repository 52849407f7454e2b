"""GET /api/events/: paginated like every list, filtered, refusing bad filters by name, in a fixed number of queries."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from events.services import event_record
from tests.factories import CustomerFactory, ProjectFactory

URL = "/api/events/"


def _record(event_type, scope, *, actor=None, created=None, **concerns) -> Event:
    event = event_record(event_type, scope=scope, actor=actor, **concerns)
    if created is not None:
        Event.objects.filter(id=event.id).update(created=created)
        event.created = created
    return event


def _uuids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["uuid"] for row in response.json()]


@pytest.fixture
def log(world):
    """Events of several types, scopes, actors and times, some of another customer's project."""
    w = world
    now = timezone.now()
    elsewhere = ProjectFactory(customer=CustomerFactory(name="Elsewhere"))
    project = ("project", w.project.uuid)
    resource_uuid, order_uuid = uuid.uuid4(), uuid.uuid4()
    return {
        "granted": _record("role_granted", project, actor=w.owner, created=now - timedelta(days=3),
                           customer=w.customer.uuid),
        "updated": _record("project_update_succeeded", project, actor=w.manager, created=now - timedelta(days=2),
                           customer=w.customer.uuid),
        "ending": _record("project_ending", project, created=now - timedelta(days=1), customer=w.customer.uuid),
        "revoked": _record("role_revoked", ("customer", w.customer.uuid), actor=w.owner),
        "usage": _record("marketplace_component_usage_reported", ("project", w.project.uuid),
                         customer=w.customer.uuid, resource=resource_uuid, order=order_uuid,
                         offering=w.offering.uuid),
        "elsewhere": _record("project_ending", ("project", elsewhere.uuid), customer=elsewhere.customer.uuid),
        "provider": _record("provider_unavailable", ("provider", w.provider.uuid), customer=w.provider_org.uuid,
                            provider=w.provider.uuid),
    }  # fmt: skip


def test_the_list_is_paged_with_a_count_and_links_newest_first(api, world, log):
    client = api.as_user(world.staff)
    first = client.get(URL, {"page_size": 3})
    assert first["X-Result-Count"] == str(len(log))
    assert 'rel="next"' in first["Link"] and 'rel="last"' in first["Link"]
    second = client.get(URL, {"page_size": 3, "page": 2})
    third = client.get(URL, {"page_size": 3, "page": 3})
    listed = _uuids(first) + _uuids(second) + _uuids(third)
    expected = Event.objects.order_by("-created", "-id").values_list("uuid", flat=True)
    assert listed == [str(u) for u in expected]
    assert 'rel="next"' not in third["Link"]


def test_a_member_lists_only_what_they_may_see(api, world, log):
    seen = set(_uuids(api.as_user(world.member).get(URL)))
    assert seen == {str(log[k].uuid) for k in ("granted", "updated", "ending", "revoked", "usage")}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"event_type": "project_ending"}, {"ending", "elsewhere"}),
        ({"event_type": ["role_granted", "role_revoked"]}, {"granted", "revoked"}),
        ({"scope_type": "customer"}, {"revoked"}),
        ({"resource_uuid": "{usage.resource_uuid}"}, {"usage"}),
        ({"order_uuid": "{usage.order_uuid}"}, {"usage"}),
        ({"offering_uuid": "{usage.offering_uuid}"}, {"usage"}),
        ({"provider_uuid": "{provider.provider_uuid}"}, {"provider"}),
        ({"project_uuid": "{granted.project_uuid}"}, {"granted", "updated", "ending", "usage"}),
        ({"customer_uuid": "{elsewhere.customer_uuid}"}, {"elsewhere"}),
        ({"actor_uuid": "{granted.actor_uuid}"}, {"granted", "revoked"}),
        ({"created_from": "{updated.created}"}, {"updated", "ending", "revoked", "usage", "elsewhere", "provider"}),
        ({"created_to": "{ending.created}"}, {"granted", "updated"}),
        ({"created_from": "{updated.created}", "created_to": "{ending.created}"}, {"updated"}),
    ],
    ids=lambda value: "+".join(value) if isinstance(value, dict) else None,
)
def test_filters(api, world, log, params, expected):
    def fill(value):
        if isinstance(value, list) or not value.startswith("{"):
            return value
        name, field = value.strip("{}").split(".")
        found = getattr(log[name], field)
        return found.isoformat() if hasattr(found, "isoformat") else str(found)

    response = api.as_user(world.staff).get(URL, {key: fill(value) for key, value in params.items()})
    assert set(_uuids(response)) == {str(log[name].uuid) for name in expected}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event_type", "no_such_event"),
        ("customer_uuid", "not-a-uuid"),
        ("project_uuid", "42"),
        ("resource_uuid", "x"),
        ("offering_uuid", "x"),
        ("order_uuid", "x"),
        ("provider_uuid", "x"),
        ("actor_uuid", "x"),
        ("created_from", "yesterday"),
        ("created_to", "2026-13-45"),
        ("created_from", "0001-01-01T00:00:00+05:00"),  # before the year 1 in UTC
    ],
)
def test_a_bad_filter_value_is_refused_naming_the_field(api, world, field, value):
    response = api.as_user(world.member).get(URL, {field: value})
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize("moment", ["2315-05-14T03:30:47+18:08", "1569-05-04T06:11:25-14:50"])
def test_a_moment_with_any_offset_python_reads_is_taken_to_utc(api, world, log, moment):
    """PostgreSQL reads offsets up to ±15:59 only; the filter hands it the same moment in UTC."""
    response = api.as_user(world.staff).get(URL, {"created_from": moment, "created_to": moment})
    assert response.status_code == 200, response.content
    assert response.json() == []


def test_an_event_is_read_by_uuid_only_where_visible(api, world, log):
    path = f"{URL}{log['provider'].uuid}/"
    assert api.as_user(world.provider_owner).get(path).status_code == 200
    assert api.as_user(world.member).get(path).status_code == 404
    assert api.as_user(world.outsider).get(path).status_code == 404


def test_events_are_read_only(api, world, log):
    client = api.as_user(world.staff)
    assert client.post(URL, {}, format="json").status_code == 405
    assert client.delete(f"{URL}{log['granted'].uuid}/").status_code == 405


EXTRA = 40


@pytest.fixture
def many(world, log):
    """Enough events that page sizes 5 and 50 differ: each scope kind, visible and not."""
    scopes = [("project", world.project.uuid), ("customer", world.customer.uuid), ("provider", world.provider.uuid)]
    for i in range(EXTRA):
        _record("project_ending", scopes[i % len(scopes)], actor=world.owner)


@pytest.mark.parametrize("who", ["staff", "member", "provider_owner"])
@pytest.mark.parametrize("page_size", [5, 50])
def test_the_list_runs_a_fixed_number_of_queries(api, world, many, django_assert_num_queries, who, page_size):
    """The token (with its user), the count, the page: the viewer's visibility is subqueries of the last two."""
    client = api.as_user(world.viewer(who))
    with django_assert_num_queries(3):
        response = client.get(URL, {"page_size": page_size})
    assert len(_uuids(response)) == min(page_size, int(response["X-Result-Count"]))
    assert int(response["X-Result-Count"]) > 5
