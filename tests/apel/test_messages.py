"""The APEL message parser follows APEL's loader: every rejection rule, with APEL's reason, whole message or nothing."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apel.messages import (
    CLOUD,
    CLOUD_SUMMARY,
    JOB,
    SUMMARY,
    MessageRejected,
    format_record,
    message_text,
    messages,
    parse_message,
)

NOW = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
FEB = int(datetime(2027, 2, 10, tzinfo=UTC).timestamp())

VALID = {
    CLOUD: {"VMUUID": "vm-1", "SiteName": "SITE-A", "CloudComputeService": "nova", "WallDuration": "3600",
            "CpuCount": "2", "Memory": "4096", "StartTime": str(FEB), "EndTime": "0", "Status": "started"},
    CLOUD_SUMMARY: {"SiteName": "SITE-A", "Month": "2", "Year": "2027", "VO": "vo.a", "WallDuration": "10",
                    "CpuCount": "2.5", "NumberOfVMs": "1"},
    JOB: {"Site": "SITE-A", "LocalJobId": "42", "WallDuration": "100", "CpuDuration": "200",
          "StartTime": str(FEB), "EndTime": str(FEB + 100), "ServiceLevelType": "HEPscore23", "ServiceLevel": "10.5"},
    SUMMARY: {"Site": "SITE-A", "Month": "2", "Year": "2027", "WallDuration": "100", "CpuDuration": "200",
              "NumberOfJobs": "3", "EarliestEndTime": str(FEB), "LatestEndTime": str(FEB + 100)},
}  # fmt: skip


def _message(fmt, record: dict, *, header: str | None = None) -> str:
    body = "\n".join(f"{key}: {value}" for key, value in record.items())
    return f"{header or fmt.header}\n{body}\n%%\n"


def _without(record: dict, key: str) -> dict:
    return {k: v for k, v in record.items() if k != key}


def _cases():
    for fmt in (CLOUD, CLOUD_SUMMARY, JOB, SUMMARY):
        valid = VALID[fmt]
        for key in fmt.mandatory:
            yield fmt, _without(valid, key), f"Mandatory field {key} not specified."
            for null in ("none", "NULL", ""):
                yield fmt, {**valid, key: null}, f"NULL in mandatory field: {key}"
        yield fmt, {**valid, "Foo": "1"}, "Unknown field: Foo"
        site = "SiteName" if fmt.kind == "cloud" else "Site"
        yield fmt, {**_without(valid, site), site.lower(): "SITE-A"}, f"Unknown field: {site.lower()}"
        yield fmt, {**valid, "WallDuration": "1.5"}, "Invalid int value 1.5 in field WallDuration"
    yield CLOUD, {**VALID[CLOUD], "Memory": "4G"}, "Invalid int value 4G in field Memory"
    yield CLOUD, {**VALID[CLOUD], "CpuCount": "two"}, "Invalid float value two in field CpuCount"
    yield CLOUD, {**VALID[CLOUD], "Benchmark": "nan"}, "Invalid float value nan in field Benchmark"
    yield CLOUD, {**VALID[CLOUD], "StartTime": "2027-02-01 10:00"}, "Unknown datetime format!: 2027-02-01 10:00"
    yield CLOUD_SUMMARY, {**VALID[CLOUD_SUMMARY], "Benchmark": "x"}, "Invalid float value x in field Benchmark"
    job = VALID[JOB]
    yield (
        JOB,
        _without(_without(job, "ServiceLevel"), "ServiceLevelType"),
        ("Mandatory field ServiceLevelType not specified."),
    )
    yield JOB, _without(job, "ServiceLevel"), "Unit but not value supplied for ScalingFactor."
    yield JOB, _without(job, "ServiceLevelType"), "Unit but not value supplied for ScalingFactor."
    yield JOB, {**job, "ServiceLevelType": "specint"}, "ScalingFactorUnit specint not valid."
    yield JOB, {**job, "ServiceLevel": "fast"}, "Invalid float value fast in field ServiceLevel"
    yield JOB, {**job, "EndTime": str(FEB - 1)}, "EndTime is before StartTime."
    future = int(datetime(2027, 3, 17, 12, 0, 1, tzinfo=UTC).timestamp())
    yield JOB, {**job, "EndTime": str(future)}, "Epoch time 2027-03-17 12:00:01 is in the future."
    summary = VALID[SUMMARY]
    yield SUMMARY, {**summary, "Month": "13"}, "Invalid values for month and/or year."
    yield SUMMARY, {**summary, "Month": "0"}, "Invalid values for month and/or year."
    yield SUMMARY, {**summary, "Month": "4", "EarliestEndTime": "none"}, "Month specified in record is in the future."
    yield SUMMARY, {**summary, "EarliestEndTime": str(FEB - 30 * 86400)}, "EarliestEndTime is not within stated month."
    yield SUMMARY, {**summary, "LatestEndTime": str(FEB + 30 * 86400)}, "LatestEndTime is not within stated month."
    yield SUMMARY, {**summary, "EarliestEndTime": str(FEB + 200)}, "LatestEndTime is earlier than EarliestEndTime."
    yield SUMMARY, {**summary, "WallDuration": "-1"}, "Negative WallDuration"
    yield SUMMARY, {**summary, "CpuDuration": "-1"}, "Negative WallDuration"  # APEL's text for both


CASES = list(_cases())


@pytest.mark.parametrize(("fmt", "record", "reason"), CASES, ids=[f"{f.name}:{reason}" for f, _, reason in CASES])
def test_each_rule_rejects_the_whole_message_with_apels_reason(fmt, record, reason):
    good = _message(fmt, VALID[fmt]).split("\n", 1)[1]
    bad = "\n".join(f"{key}: {value}" for key, value in record.items())
    text = f"{fmt.header}\n{good}{bad}\n%%\n{good}"  # the bad record between two good ones
    with pytest.raises(MessageRejected) as caught:
        parse_message(text, now=NOW)
    assert caught.value.reason == reason
    assert caught.value.record == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Message header is incorrect: substring not found"),
        ("no header here\nSite: X\n", "Message header is incorrect: substring not found"),
        ("APEL-storage-message: v0.1\n", "Message type APEL-storage-message: v0.1 not recognised."),
        ("APEL-cloud-message: v0.2\nVMUUID: x\n", "Message type APEL-cloud-message: v0.2 not recognised."),
        (
            "APEL-cloud-message: v0.4\nVMUUID: x\nno colon\n",
            "Record contains a line  without a key-value pair: no colon",
        ),
    ],
)
def test_message_level_rejections(text, reason):
    with pytest.raises(MessageRejected) as caught:
        parse_message(text, now=NOW)
    assert caught.value.reason == reason


def test_valid_messages_parse_with_types_and_nulls():
    for fmt, record in VALID.items():
        parsed_fmt, records = parse_message(_message(fmt, record) + _message(fmt, record).split("\n", 1)[1], now=NOW)
        assert parsed_fmt is fmt and len(records) == 2
    _, [cloud] = parse_message(
        "APEL-cloud-message: v0.4\nVMUUID: a\nSiteName: S\nGlobalUserName: /DC=org/CN=x:y\nImageId: NULL\n"
        "StartTime: 2027-02-01T10:00:00Z\nCpuCount: 2\nDisk: none\n",
        now=NOW,
    )
    assert cloud == {
        "VMUUID": "a",
        "SiteName": "S",
        "GlobalUserName": "/DC=org/CN=x:y",  # split at the first colon only
        "ImageId": None,
        "StartTime": datetime(2027, 2, 1, 10, tzinfo=UTC),
        "CpuCount": 2.0,
        "Disk": None,
    }


def test_benchmark_type_is_read_in_any_case_and_a_job_may_end_up_to_two_days_ahead():
    ahead = int(datetime(2027, 3, 17, 11, tzinfo=UTC).timestamp())
    record = {**VALID[JOB], "ServiceLevelType": "hepscore23", "EndTime": str(ahead)}
    assert parse_message(_message(JOB, record), now=NOW)[1][0]["ServiceLevelType"] == "hepscore23"


def test_what_we_write_reads_back_the_same():
    record = {"Site": "S", "Month": 2, "Year": 2027, "VO": "vo.a", "GlobalUserName": None, "WallDuration": 10,
              "CpuDuration": 20, "NumberOfJobs": 0, "ServiceLevelType": "HEPscore23",
              "ServiceLevel": Decimal("10.50")}  # fmt: skip
    text = message_text(SUMMARY, [record, record])
    assert "GlobalUserName" not in text and "ServiceLevel: 10.5\n" in text
    _, records = parse_message(text, now=NOW)
    assert records[0] == {**{k: v for k, v in record.items() if v is not None}, "ServiceLevel": 10.5}
    assert format_record(SUMMARY, records[0]).splitlines()[0] == "Site: S"


def test_messages_hold_at_most_the_given_number_of_records_and_are_made_lazily():
    def records():
        for i in range(1201):
            yield {"SiteName": "S", "Month": 2, "Year": 2027, "NumberOfVMs": i}

    chunks = messages(CLOUD_SUMMARY, records())
    first_text, first_count = next(chunks)
    assert first_count == 500 and first_text.count("%%") == 500
    assert [count for _, count in chunks] == [500, 201]
