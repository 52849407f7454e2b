import copy

import pytest

from protocol.messages import (
    ConnectionComplete,
    ConnectionRequest,
    Manifest,
    MembershipChanges,
    OrderBatch,
    OrderItem,
    OrderUpdates,
    ProtocolError,
    UpdateResults,
    UsagePage,
    VerifyRequest,
    VerifyResult,
)

U = "6d1a4e8c-0000-4000-8000-0000000000{:02d}"

ITEM = {
    "order_uuid": U.format(1),
    "type": "create",
    "resource": {
        "uuid": U.format(2),
        "name": "Alloc",
        "slug": "alloc",
        "backend_id": "",
        "offering_uuid": U.format(3),
        "offering_type": "SiteAgent.Local",
        "plan": {"uuid": U.format(4), "name": "Default"},
        "limits": {"cpu": 10},
        "attributes": {"x": 1},
    },
    "project": {
        "uuid": U.format(5),
        "name": "P",
        "slug": "p",
        "customer_uuid": U.format(6),
        "customer_name": "C",
        "customer_slug": "c",
        "members": [{"user_uuid": U.format(7), "username": None, "role": "PROJECT.MEMBER"}],
    },
    "limits": {"cpu": 10},
    "attributes": {},
}


def _error(cls, data):
    with pytest.raises(ProtocolError) as caught:
        cls.from_dict(data)
    return caught.value.field, caught.value.reason


def test_order_batch_round_trips():
    data = {"batch_id": U.format(9), "items": [ITEM]}
    batch = OrderBatch.from_dict(data)
    assert batch.items[0].resource.plan.name == "Default"
    assert batch.items[0].project.members[0].username is None
    assert OrderBatch.from_dict(batch.to_dict()) == batch
    assert batch.to_dict()["items"][0]["resource"]["limits"] == {"cpu": 10}


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("order_uuid",), "nope", "items[0].order_uuid"),
        (("type",), "resize", "items[0].type"),
        (("resource", "uuid"), 5, "items[0].resource.uuid"),
        (("resource", "name"), "  ", "items[0].resource.name"),
        (("resource", "plan"), {"uuid": "x", "name": ""}, "items[0].resource.plan.uuid"),
        (("resource", "limits"), {"cpu": -1}, "items[0].resource.limits.cpu"),
        (("resource", "limits"), {"cpu": True}, "items[0].resource.limits.cpu"),
        (("project", "members"), [{"user_uuid": U.format(1), "role": 3}], "items[0].project.members[0].role"),
        (("project",), None, "items[0].project"),
        (("attributes",), [], "items[0].attributes"),
    ],
)
def test_order_item_errors_name_the_field(path, value, field):
    item = copy.deepcopy(ITEM)
    target = item
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert _error(OrderBatch, {"batch_id": U.format(9), "items": [item]})[0] == field


def test_missing_fields_and_defaults():
    item = copy.deepcopy(ITEM)
    del item["resource"]["slug"]
    assert _error(OrderItem, item) == ("resource.slug", "is required")
    lean = {k: v for k, v in ITEM.items() if k not in ("limits", "attributes")}
    lean["resource"] = {k: v for k, v in ITEM["resource"].items() if k not in ("plan", "backend_id", "attributes")}
    parsed = OrderItem.from_dict(lean)
    assert parsed.limits == {} and parsed.resource.plan is None and parsed.resource.backend_id == ""
    assert _error(OrderItem, {**lean, "type": "update"}) == ("limits", "is required")
    assert _error(OrderBatch, {"batch_id": U.format(9), "items": []})[0] == "items"
    assert _error(OrderBatch, [])[0] == "body"


def test_updates_usage_verify_memberships_connections():
    updates = OrderUpdates.from_dict({"updates": [{"order_uuid": U.format(1), "state": "done", "backend_id": "b"}]})
    assert updates.to_dict()["updates"][0]["error_message"] == ""
    assert _error(OrderUpdates, {"updates": [{"order_uuid": U.format(1), "state": "accepted"}]})[0] == (
        "updates[0].state"
    )
    assert (
        UpdateResults.from_dict({"results": [{"order_uuid": U.format(1), "accepted": False}]}).results[0].detail == ""
    )

    record = {
        "cursor": 3,
        "resource_uuid": U.format(2),
        "backend_id": "b",
        "component_type": "cpu",
        "billing_month": "2026-11-01",
        "amount": "2.5",
    }
    assert UsagePage.from_dict({"records": [record], "next_cursor": 3}).records[0].username == ""
    assert _error(UsagePage, {"records": [{**record, "billing_month": "2026-11-02"}], "next_cursor": 3})[0] == (
        "records[0].billing_month"
    )
    for bad in ("-1", "NaN", "abc"):
        assert _error(UsagePage, {"records": [{**record, "amount": bad}], "next_cursor": 3})[0] == "records[0].amount"

    assert VerifyRequest.from_dict({"resources": [{"resource_uuid": U.format(2)}]}).resources[0].backend_id == ""
    result = VerifyResult.from_dict({"unknown_to_provider": [U.format(2)], "unknown_to_orchestrator": []})
    assert result.to_dict() == {"unknown_to_provider": [U.format(2)], "unknown_to_orchestrator": []}

    change = {"change_id": "c1", "project_uuid": U.format(5), "user_uuid": U.format(7), "role": "R", "action": "add"}
    assert MembershipChanges.from_dict({"changes": [change]}).changes[0].username is None
    assert _error(MembershipChanges, {"changes": [{**change, "change_id": ""}]})[0] == "changes[0].change_id"

    assert ConnectionRequest.from_dict({"connection_id": "x", "user_uuid": U.format(7)}).email == ""
    assert ConnectionRequest.from_dict({"connection_id": "x", "user_uuid": U.format(7)}).return_url == ""
    back = {"connection_id": "x", "user_uuid": U.format(7), "return_url": "https://portal.example/accounts/"}
    assert ConnectionRequest.from_dict(back).return_url == "https://portal.example/accounts/"
    for bad in ("javascript:alert(1)", "/relative/", 7, "https://x/" + "a" * 500):
        assert _error(ConnectionRequest, {**back, "return_url": bad})[0] == "return_url"
    assert _error(ConnectionComplete, {"connection_id": "x", "user_uuid": U.format(7)})[0] == "username"


def test_manifest_fills_in_what_is_missing_as_off():
    manifest = Manifest.from_dict(
        {
            "provider_id": "demo",
            "features": {"compute": {"docker": {"enabled": True, "logs": True}}},
            "components": ["cpu"],
        }
    )
    data = manifest.to_dict()
    assert data["features"]["compute"]["docker"] == {
        "enabled": True,
        "web": False,
        "vnc": False,
        "batch": False,
        "logs": True,
    }
    assert data["features"]["compute"]["virtualMachine"]["enabled"] is False
    assert data["features"]["storage"] == {"enabled": False, "shares": False, "projects": False}
    assert data["features"]["blockDevices"] == {"enabled": False}
    assert data["components"] == ["cpu"] and data["offering_types"] == []
    assert _error(Manifest, {"provider_id": "d", "features": {"storage": {"enabled": "yes"}}})[0] == (
        "features.storage.enabled"
    )


RECORD = {
    "cursor": 3,
    "resource_uuid": U.format(2),
    "backend_id": "b",
    "component_type": "cpu",
    "billing_month": "2026-11-01",
    "amount": "2.5",
}


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"billing_month": "0000-01-01"}, "billing_month"),  # matches YYYY-MM-01, but is no date
        ({"component_type": "c" * 51}, "component_type"),
        ({"amount": "1e30"}, "amount"),
        ({"amount": "1000000000000000000"}, "amount"),
        ({"username": "al\u0000ice"}, "username"),
        ({"username": "al\ud800ice"}, "username"),
        ({"username": "u" * 65}, "username"),
        ({"backend_id": "b" * 256}, "backend_id"),
        ({"component_type": "cp\u0000u"}, "component_type"),
    ],
)
def test_a_usage_record_holds_only_what_the_orchestrator_can_store(override, field):
    from protocol.messages import UsageRecord

    with pytest.raises(ProtocolError) as caught:
        UsageRecord.from_dict({**RECORD, **override}, "records[4]")
    assert caught.value.field == f"records[4].{field}"
    assert UsageRecord.from_dict({**RECORD, "amount": "999999999999999999.9999999999"}).amount


def test_an_order_update_holds_no_nul_and_is_bounded():
    for override, field in (
        ({"error_message": "disk\u0000full"}, "updates[0].error_message"),
        ({"error_message": "x" * 10001}, "updates[0].error_message"),
        ({"backend_id": "b" * 256}, "updates[0].backend_id"),
    ):
        update = {"order_uuid": U.format(1), "state": "erred", **override}
        assert _error(OrderUpdates, {"updates": [update]})[0] == field


def test_parse_each_keeps_good_entries_beside_bad_ones():
    from protocol.messages import UsageRecord, parse_each

    parsed = parse_each({"records": [RECORD, {**RECORD, "amount": "-1"}, "x"]}, "records", UsageRecord.from_dict)
    assert parsed[0].amount == "2.5"
    assert [(e.field, e.reason) for e in parsed[1:]] == [
        ("records[1].amount", "must be a non-negative decimal string"),
        ("records[2]", "must be an object"),
    ]
    for envelope, field in (({"records": {}}, "records"), ([], "body"), ({}, "records")):
        with pytest.raises(ProtocolError) as caught:
            parse_each(envelope, "records", UsageRecord.from_dict)
        assert caught.value.field == field
    with pytest.raises(ProtocolError):
        parse_each({"records": [RECORD] * 3}, "records", UsageRecord.from_dict, max_items=2)


def test_clean_text_makes_text_storable():
    from protocol.messages import clean_text, text_problem

    assert clean_text("a\u0000b\ud800c" + "d" * 50, 10) == "abcddddddd"
    assert text_problem(clean_text("x\u0000\udfff", 100)) is None
    assert text_problem("ok") is None and text_problem("n\u0000") and text_problem("\ud800")
