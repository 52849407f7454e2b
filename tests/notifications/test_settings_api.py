"""Notification settings through the API: `GET` and `PATCH /api/users/me/`."""

import pytest

from federation.models import User

pytestmark = pytest.mark.django_db

ME = "/api/users/me/"
DEFAULTS = {"approvals": True, "order_outcomes": True, "membership": True, "ending": True, "usage": True}


def test_me_shows_every_kind_with_its_value(api, member, staff):
    assert api.as_user(member).get(ME).json()["notification_settings"] == DEFAULTS
    assert api.as_user(staff).get(ME).json()["notification_settings"] == {**DEFAULTS, "staff_copy": False}


def test_patch_merges_the_kinds_named(api, member):
    client = api.as_user(member)
    response = client.patch(ME, {"notification_settings": {"approvals": False}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["notification_settings"] == {**DEFAULTS, "approvals": False}
    response = client.patch(ME, {"notification_settings": {"usage": False}}, format="json")
    assert response.json()["notification_settings"] == {**DEFAULTS, "approvals": False, "usage": False}
    assert User.objects.get(id=member.id).notification_settings == {"approvals": False, "usage": False}
    assert client.get(ME).json()["notification_settings"]["approvals"] is False


def test_staff_turn_their_copy_on(api, staff):
    response = api.as_user(staff).patch(ME, {"notification_settings": {"staff_copy": True}}, format="json")
    assert response.status_code == 200 and response.json()["notification_settings"]["staff_copy"] is True


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"notification_settings": {"bogus": True}}, {"notification_settings": {"bogus": ["Unknown kind"]}}),
        ({"notification_settings": {"approvals": "no"}}, {"notification_settings": {"approvals": ["true or false"]}}),
        ({"notification_settings": {"approvals": 0}}, {"notification_settings": {"approvals": ["true or false"]}}),
        ({"notification_settings": {"staff_copy": True}}, {"notification_settings": {"staff_copy": ["Only staff"]}}),
        ({"notification_settings": [True]}, {"notification_settings": ["Expected an object"]}),
        ({"notification_settings": None}, {"notification_settings": ["null"]}),
        ({}, {"notification_settings": ["required"]}),
        ({"email": "x@example.org", "notification_settings": {}}, {"email": ["Not changeable here"]}),
    ],
)
def test_bad_settings_are_a_400_naming_the_field(api, member, body, expected):
    response = api.as_user(member).patch(ME, body, format="json")
    assert response.status_code == 400, response.content

    def contains(actual, wanted):
        if isinstance(wanted, dict):
            return isinstance(actual, dict) and all(contains(actual.get(k), v) for k, v in wanted.items())
        return any(wanted[0] in str(message) for message in actual)

    assert contains(response.json(), expected), response.json()
    assert User.objects.get(id=member.id).notification_settings == {}


def test_read_only_accounts_change_nothing(api, support):
    response = api.as_user(support).patch(ME, {"notification_settings": {"approvals": False}}, format="json")
    assert response.status_code == 403
    assert User.objects.get(id=support.id).notification_settings == {}


def test_nobody_reads_anothers_settings(api, member, manager):
    body = api.as_user(member).get(f"/api/users/{manager.uuid}/").json()
    assert "notification_settings" not in body
    assert all("notification_settings" not in row for row in api.as_user(member).get("/api/users/").json())


def test_anonymous_is_401(api, db):
    assert api.patch(ME, {"notification_settings": {}}, format="json").status_code == 401
