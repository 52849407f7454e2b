"""`UsageRecord.from_dict` takes plainly valid records on a short path: it must accept exactly what the
whole check accepts, and build the same record."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.messages import ProtocolError, UsageRecord

VALID = {
    "cursor": 7,
    "resource_uuid": "0b5f1c52-6a53-4f0e-9d59-0d4f3a7b9c11",
    "backend_id": "acct-1",
    "component_type": "cpu_k_hours",
    "billing_month": "2026-11-01",
    "amount": "12.5",
    "username": "alice",
}

# Values that are right for some field and wrong for others, or wrong in a way only one check sees.
SAMPLES = [
    None, True, False, 0, 1, -1, 2**70, 1.5, "", " ", "\x00", "é", "٣", "1e3", "NaN", "Infinity", "-0",
    "0000-01-01", "2026-13-01", "2026-02-01", "2026-02-01\n", "٢٠٢٦-02-01", "2026-02-02",
    "0B5F1C52-6A53-4F0E-9D59-0D4F3A7B9C11", "{0b5f1c52-6a53-4f0e-9d59-0d4f3a7b9c11}",
    "0b5f1c526a534f0e9d590d4f3a7b9c11", "urn:uuid:0b5f1c52-6a53-4f0e-9d59-0d4f3a7b9c11",
    " 1", "1 ", "1" * 65, "9" * 18, "9" * 19, "x" * 51, "x" * 65, "x" * 256, [], {},
]  # fmt: skip
AWKWARD = st.one_of(st.sampled_from(SAMPLES), st.text(max_size=70), st.integers())


def _outcome(data):
    try:
        return UsageRecord._checked(data, "records[0]")
    except ProtocolError:
        return "refused"


def _compare(data):
    whole = _outcome(data)
    short = UsageRecord._plain(data)
    assert short is None or short == whole, (data, short, whole)
    if whole == "refused":
        with pytest.raises(ProtocolError):
            UsageRecord.from_dict(data, "records[0]")
    else:
        assert UsageRecord.from_dict(data, "records[0]") == whole


@pytest.mark.parametrize("field", [*VALID, "extra"])
@pytest.mark.parametrize("value", SAMPLES, ids=repr)
def test_each_awkward_value_in_each_field_gets_the_same_answer_on_both_paths(field, value):
    _compare({**VALID, field: value})


@settings(max_examples=1000, deadline=None)
@given(changes=st.dictionaries(st.sampled_from([*VALID, "extra"]), AWKWARD, max_size=3),
       dropped=st.sets(st.sampled_from(list(VALID)), max_size=2))  # fmt: skip
def test_random_records_get_the_same_answer_on_both_paths(changes, dropped):
    _compare({key: value for key, value in {**VALID, **changes}.items() if key not in dropped})


@pytest.mark.parametrize(
    "changes",
    [{}, {"username": ""}, {"backend_id": ""}, {"amount": "0"}, {"amount": "999999999999999999.9"}, {"cursor": 1}],
)
def test_plain_records_take_the_short_path(changes):
    data = {**VALID, **changes}
    assert UsageRecord._plain(data) == UsageRecord._checked(data, "") is not None
