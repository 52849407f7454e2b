"""A provider's usage batch taken column by column gives what the record-by-record path gives.

`plain_usage_batch` takes a batch only when every record is one `UsageRecord.from_dict` takes on its
short path, with the same values; any other batch goes record by record, which names each error.
Through the API, both paths give the same answers and store the same rows, events and current usage.
"""

import json
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from accounting.models import ComponentUsage
from events.models import Event
from marketplace.models import Resource
from protocol.http import signed_headers
from protocol.messages import UsageRecord, parse_each
from providers.services import usage_batch_import, usage_records_import
from providers.services.usage_batch import plain_usage_batch
from tests.factories import ProjectFactory, make_provider

USAGE_URL = "/api/provider/usage/"
MONTH = "2026-11-01"
RESOURCE = "0b5a6a3e-0c1d-4e9a-9f37-5d1c2b3a4f50"


def _record(**fields) -> dict:
    record = {
        "cursor": 1,
        "resource_uuid": RESOURCE,
        "backend_id": "acct-1",
        "component_type": "cpu",
        "billing_month": MONTH,
        "amount": "1.5",
        "username": "",
    }
    record.update(fields)
    return {key: value for key, value in record.items() if value is not _GONE}


_GONE = object()

# Each a record that differs from a plain one in one field: the short path must agree on every one.
VARIANTS = [
    {},
    {"username": _GONE},
    {"username": "user-1"},
    {"username": None},
    {"username": "x" * 64},
    {"username": "x" * 65},
    {"username": "jürgen"},
    {"username": "a\x00b"},
    {"cursor": 0},
    {"cursor": True},
    {"cursor": 1.0},
    {"cursor": "1"},
    {"cursor": _GONE},
    {"cursor": 10**12},
    {"resource_uuid": RESOURCE.upper()},
    {"resource_uuid": RESOURCE.replace("-", "")},
    {"resource_uuid": "{" + RESOURCE + "}"},
    {"resource_uuid": "not-a-uuid"},
    {"resource_uuid": RESOURCE + "\n" + RESOURCE},
    {"resource_uuid": 5},
    {"backend_id": ""},
    {"backend_id": "b" * 255},
    {"backend_id": "b" * 256},
    {"backend_id": _GONE},
    {"component_type": ""},
    {"component_type": "   "},
    {"component_type": "c" * 50},
    {"component_type": "c" * 51},
    {"component_type": ["cpu"]},
    {"billing_month": "2026-11-15"},
    {"billing_month": "2026-13-01"},
    {"billing_month": "0000-01-01"},
    {"billing_month": "2026-1-01"},
    {"billing_month": "2026-11-01\n"},
    {"billing_month": 202611},
    {"amount": "0"},
    {"amount": "-0"},
    {"amount": "-1"},
    {"amount": " 5 "},
    {"amount": ""},
    {"amount": " "},
    {"amount": "1_000"},
    {"amount": "1e3"},
    {"amount": "NaN"},
    {"amount": "Infinity"},
    {"amount": "abc"},
    {"amount": "9" * 18},
    {"amount": "1" + "0" * 18},
    {"amount": "0." + "9" * 62},
    {"amount": "1" * 65},
    {"amount": 1.5},
    {"amount": "١٢"},  # Arabic-Indic digits: Decimal takes them, the short path does not
    {"extra": {"nested": [1]}},
]


def _same_values(batch, records: list[UsageRecord]) -> bool:
    return (
        batch.cursors == [r.cursor for r in records]
        and batch.resource_uuids == [r.resource_uuid for r in records]
        and batch.component_types == [r.component_type for r in records]
        and batch.billing_months == [r.billing_month for r in records]
        and batch.amounts == [Decimal(r.amount) for r in records]
        and batch.usernames == [r.username for r in records]
    )


def _variant_id(variant: dict) -> str:
    fields = (f"{key}={'missing' if value is _GONE else repr(value)[:24]}" for key, value in variant.items())
    return ",".join(fields) or "plain"


@pytest.mark.parametrize("variant", VARIANTS, ids=_variant_id)
def test_a_batch_is_taken_whole_only_when_every_record_is_plain(variant):
    plain, odd = _record(), _record(**{"cursor": 2, **variant})
    batch = plain_usage_batch({"records": [plain, odd]})
    assert (batch is not None) == (UsageRecord._plain(odd) is not None)
    if batch is not None:
        assert _same_values(batch, [UsageRecord.from_dict(plain), UsageRecord.from_dict(odd)])


@pytest.mark.parametrize(
    "body",
    [None, [], "records", {}, {"records": None}, {"records": {}}, {"records": [1]}, {"records": [[]]},
     {"records": [_record()] * 10001}],
    ids=["null", "list", "text", "no records", "records null", "records object", "a number", "a list",
         "too many"],
)  # fmt: skip
def test_an_envelope_that_is_not_plain_goes_the_long_way(body):
    assert plain_usage_batch(body) is None


def test_an_empty_batch_is_plain():
    batch = plain_usage_batch({"records": []})
    assert batch is not None and batch.cursors == [] and batch.amounts == []


# -- through the service and the API -------------------------------------------------------------


@pytest.fixture
def site(db):
    return make_provider("site-a")


def _resource(site, name="alloc") -> Resource:
    project = ProjectFactory(name=f"{name} project")
    return Resource.objects.create(name=name, slug=name, offering=site.offering, project=project, state="OK")


def _month() -> str:
    return timezone.localdate().replace(day=1).isoformat()


def _records(resources, per_resource: int, amount: str = "1.5") -> list[dict]:
    records = []
    for resource in resources:
        for i in range(per_resource):
            records.append(
                {
                    "cursor": len(records) + 1,
                    "resource_uuid": str(resource.uuid),
                    "backend_id": "acct-1",
                    "component_type": ("cpu", "gpu")[i % 2],
                    "billing_month": _month(),
                    "amount": amount,
                    "username": f"user-{i // 2:03}" if i > 1 else "",
                }
            )
    return records


def _stored() -> tuple:
    usages = sorted(
        ComponentUsage.objects.values_list(
            "resource_id", "component_type", "billing_period", "username", "usage", "previous_usage", "decreased"
        )
    )
    events = [
        (e.event_type, e.scope_type, e.scope_uuid, e.customer_uuid, e.project_uuid, e.resource_uuid, e.offering_uuid,
         e.context)
        for e in Event.objects.order_by("id")
    ]  # fmt: skip
    current = sorted(Resource.objects.values_list("id", "current_usages"))
    return usages, events, current


def _by_each_path(site, data) -> tuple:
    """(answers, what is stored) through the column-wise path, then through the record-by-record one."""
    outcomes = []
    for columns in (True, False):
        with transaction.atomic():
            if columns:
                assert plain_usage_batch(data) is not None
                answer = usage_batch_import(provider=site.provider, data=data)
            else:
                records = parse_each(data, "records", UsageRecord.from_dict)
                answer = usage_records_import(provider=site.provider, records=records, raw=data["records"])
            outcomes.append((answer, _stored()))
            transaction.set_rollback(True)
    return outcomes


def test_both_paths_answer_and_store_the_same(site):
    alpha, beta = _resource(site, "alpha"), _resource(site, "beta")
    elsewhere = Resource.objects.create(
        name="theirs", slug="theirs", offering=make_provider("site-b").offering, project=alpha.project, state="OK"
    )
    records = _records([alpha, beta], 6)
    records[1]["resource_uuid"] = str(uuid.uuid4())  # no such resource
    records[2]["resource_uuid"] = str(elsewhere.uuid)  # another provider's resource
    records[3]["resource_uuid"] = records[3]["resource_uuid"].upper()
    records[4]["amount"] = "9" * 18 + ".99999999999"  # rounds up to 10**18 when stored: too large
    records[5]["amount"] = "0.00000000004"  # rounds to 0
    columns, one_by_one = _by_each_path(site, {"records": records})
    assert columns == one_by_one
    (changed, answers), (usages, events, _) = columns
    assert changed == len(records) - 3
    assert [a["accepted"] for a in answers[:6]] == [True, False, False, True, False, True]
    assert answers[1]["detail"] == "No such resource at this provider."
    assert answers[4]["detail"] == "amount: too large to be stored"
    assert len(usages) == len(records) - 3 and events


def test_both_paths_agree_on_a_batch_that_changes_and_lowers_rows(site):
    alpha = _resource(site, "alpha")
    usage_batch_import(provider=site.provider, data={"records": _records([alpha], 6, amount="5")})
    records = _records([alpha], 6, amount="7.25")
    records[0]["amount"] = records[3]["amount"] = "2"  # the cpu total and a user's row go down
    records[5]["amount"] = "5"  # unchanged
    columns, one_by_one = _by_each_path(site, {"records": records})
    assert columns == one_by_one
    (changed, _), (usages, events, current) = columns
    assert changed == 5
    assert [e[0].rsplit("_", 1)[1] for e in events[-3:]] == ["decreased", "reported", "decreased"]
    assert dict(current)[alpha.id] == {"cpu": 2, "gpu": 7.25}


def _post(client, keys, body: bytes):
    headers = signed_headers(
        private_key=keys.key, kid=keys.kid, issuer=keys.slug, audience="federation", method="POST", path=USAGE_URL,
        body=body,
    )  # fmt: skip
    return client.post(
        USAGE_URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=headers["Authorization"]
    )


def test_a_bad_record_is_refused_naming_its_field_and_index_and_stores_nothing_of_its_own(client, site):
    alpha = _resource(site, "alpha")
    records = _records([alpha], 4)
    bad = dict(records[2], amount="lots")
    answer = _post(client, site.keys, json.dumps({"records": [*records[:2], bad, records[3]]}).encode())
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["imported"] == 3
    assert body["results"][2] == {
        "cursor": 3,
        "accepted": False,
        "detail": "records[2].amount: must be a non-negative decimal string",
        "retry": False,
        "field": "records[2].amount",
    }
    stored = _stored()
    with transaction.atomic():  # the same state as the batch without the bad record
        ComponentUsage.objects.all().delete()
        Event.objects.all().delete()
        Resource.objects.update(current_usages={})
        usage_batch_import(provider=site.provider, data={"records": [*records[:2], records[3]]})
        without = _stored()
        transaction.set_rollback(True)
    assert stored == without


@pytest.mark.parametrize(
    ("body", "field"),
    [({"records": "x"}, "records"), ({"items": []}, "records"), ([], "body")],
)
def test_a_bad_envelope_is_a_400_naming_its_field_and_stores_nothing(client, site, body, field):
    _resource(site, "alpha")
    answer = _post(client, site.keys, json.dumps(body).encode())
    assert answer.status_code == 400
    assert answer.json()["field"] == field
    assert not ComponentUsage.objects.exists() and not Event.objects.exists()


def test_the_api_stores_the_rows_their_events_and_current_usage(client, site):
    alpha, beta = _resource(site, "alpha"), _resource(site, "beta")
    records = _records([alpha, beta], 50)
    answer = _post(client, site.keys, json.dumps({"records": records}).encode())
    assert answer.status_code == 200, answer.content
    assert answer.json()["imported"] == 100
    assert answer.json()["results"][0] == {"cursor": 1, "accepted": True, "detail": "", "retry": False}
    assert ComponentUsage.objects.count() == 100
    events = Event.objects.order_by("id")
    assert [(e.resource_uuid, e.context["component_type"]) for e in events] == [
        (alpha.uuid, "cpu"), (alpha.uuid, "gpu"), (beta.uuid, "cpu"), (beta.uuid, "gpu"),
    ]  # fmt: skip
    assert events[0].context == {
        "component_type": "cpu",
        "billing_period": _month(),
        "username": "",
        "usage": "1.5",
        "previous_usage": None,
        "resource_name": "alpha",
    }
    for resource in (alpha, beta):
        resource.refresh_from_db()
        assert resource.current_usages == {"cpu": 1.5, "gpu": 1.5}
    again = _post(client, site.keys, json.dumps({"records": records}).encode())
    assert again.json()["imported"] == 0 and Event.objects.count() == 4
