"""`report` mode's writes: totals and per-user usage land in accounting's usage rows, only for the
provider's own resources and components; a refused or repeated report changes nothing."""

from decimal import Decimal

import pytest

from accounting.models import ComponentUsage
from federation.models import RoleName
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db

SET_USAGE = "/api/marketplace-component-usages/set_usage/"


def _set_usage(api, user, resource, amount="0.64", type_="cpu", date="2026-11-01T00:00:00+00:00"):
    body = {
        "usages": [{"type": type_, "amount": amount, "recurring": False}],
        "resource": resource.uuid.hex,
        "date": date,
    }
    return api.as_user(user).post(SET_USAGE, body, format="json")


def _rows():
    return sorted(
        ComponentUsage.objects.values_list("resource_id", "component_type", "billing_period", "username", "usage")
    )


def test_totals_then_per_user_usage_as_the_agent_reports_them(api, site_a):
    assert _set_usage(api, site_a.agent, site_a.resource).status_code == 201
    assert _set_usage(api, site_a.agent, site_a.resource).json() == {"changed": 0}  # a repeat changes nothing

    listed = (
        api.as_user(site_a.agent)
        .get(
            "/api/marketplace-component-usages/",
            {
                "resource_uuid": site_a.resource.uuid.hex,
                "billing_period": "2026-11-01",
                "field": ["uuid", "type", "usage"],
            },
        )
        .json()
    )
    (total,) = listed
    assert (total["type"], Decimal(total["usage"])) == ("cpu", Decimal("0.64"))

    answer = api.as_user(site_a.agent).post(
        f"/api/marketplace-component-usages/{total['uuid']}/set_user_usages/",
        {"usages": [{"username": "alice", "usage": "0.40", "date": "2026-11-01T00:00:00+00:00"}]},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    user_rows = (
        api.as_user(site_a.agent)
        .get(
            "/api/marketplace-component-user-usages/",
            {"resource_uuid": site_a.resource.uuid.hex, "component_usage__billing_period": "2026-11-01"},
        )
        .json()
    )
    assert [(r["username"], r["component_usage"].rstrip("/").split("/")[-1]) for r in user_rows] == [
        ("alice", total["uuid"])
    ]
    # The resource's total list still holds one row per component (the agent takes two as an anomaly).
    again = (
        api.as_user(site_a.agent)
        .get(
            "/api/marketplace-component-usages/",
            {"resource_uuid": site_a.resource.uuid.hex, "billing_period": "2026-11-01"},
        )
        .json()
    )
    assert len(again) == 1


def test_another_providers_agent_gets_404_and_stores_nothing(api, site_a, site_b):
    assert _set_usage(api, site_b.agent, site_a.resource).status_code == 404
    assert _set_usage(api, site_a.agent, site_a.resource).status_code == 201
    total = ComponentUsage.objects.get()
    before = _rows()
    answer = api.as_user(site_b.agent).post(
        f"/api/marketplace-component-usages/{total.uuid}/set_user_usages/",
        {"usages": [{"username": "mallory", "usage": "9"}]},
        format="json",
    )
    assert answer.status_code == 404
    listed = api.as_user(site_b.agent).get("/api/marketplace-component-user-usages/").json()
    assert listed == []
    assert _rows() == before


def test_support_and_project_members_may_not_report(api, site_a, support, research):
    assert _set_usage(api, support, site_a.resource).status_code == 403
    assert _set_usage(api, research.manager, site_a.resource).status_code == 404
    assert _rows() == []


@pytest.mark.parametrize(
    ("amount", "type_"),
    [("-1", "cpu"), ("lots", "cpu"), ("NaN", "cpu"), ("1", "gpu")],
    ids=["negative", "text", "nan", "unknown"],
)
def test_bad_reports_are_refused_whole(api, site_a, amount, type_):
    answer = _set_usage(api, site_a.agent, site_a.resource, amount=amount, type_=type_)
    assert answer.status_code == 400, answer.content
    assert _rows() == []


def test_a_lower_report_is_kept_and_flagged(api, site_a):
    _set_usage(api, site_a.agent, site_a.resource, amount="5")
    _set_usage(api, site_a.agent, site_a.resource, amount="3")
    row = ComponentUsage.objects.get()
    assert (row.usage, row.decreased, row.previous_usage) == (Decimal("3"), True, Decimal("5"))


def test_user_usage_rows_list_in_fixed_queries(api, site_a, django_assert_num_queries):
    _set_usage(api, site_a.agent, site_a.resource)
    total = ComponentUsage.objects.get()
    for n in range(5):
        grant(UserFactory(username=f"u{n}"), site_a.resource.project, RoleName.PROJECT_MEMBER)
    api.as_user(site_a.agent).post(
        f"/api/marketplace-component-usages/{total.uuid}/set_user_usages/",
        {"usages": [{"username": f"u{n}", "usage": "0.1"} for n in range(5)]},
        format="json",
    )
    client = api.as_user(site_a.agent)
    for page_size in (2, 10):
        with django_assert_num_queries(3):  # token, count, page (with each row's total)
            answer = client.get("/api/marketplace-component-user-usages/", {"page_size": page_size})
        assert len(answer.json()) == min(page_size, 5)
