"""Exporting usage as APEL summaries: streamed, at most 500 records a message, each read back by our parser."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting.services import UsageReport, usage_report
from apel.messages import CLOUD_SUMMARY, SUMMARY, MessageRejected, parse_message, queue_elements
from apel.services import apel_export, export_messages
from federation.models import Project

FEB = date(2027, 2, 1)
NOW = datetime(2027, 3, 20, tzinfo=UTC)


def _report(resource, component: str, usage, username: str = "", month: date = FEB) -> UsageReport:
    return UsageReport(
        resource_id=resource.id, component_type=component, billing_period=month, usage=Decimal(usage), username=username
    )


def _records(out) -> list[tuple]:
    found = []
    for element in queue_elements(out):
        fmt, records = parse_message(element.read_text(), now=NOW)
        found += [(fmt, record) for record in records]
    return found


def test_users_and_the_rest_of_the_total_become_records_that_add_up(hpc_site, tmp_path):
    alpha = hpc_site.resources["vo.alpha"]
    usage_report(
        reports=[
            _report(alpha, "cpu", 10),
            _report(alpha, "cpu", 4, "alice"),
            _report(alpha, "cpu", 3, "bob"),
            _report(alpha, "wall_hours", 2),
            _report(hpc_site.resources["vo.beta"], "cpu", "0.5"),
            _report(alpha, "cpu", 99, month=date(2027, 1, 1)),  # another month: not exported
        ]
    )
    result = apel_export(month=FEB, out=tmp_path, now=NOW)
    assert (result.messages, result.records) == (1, 4)
    records = {(r.get("VO"), r.get("GlobalUserName")): r for fmt, r in _records(tmp_path) if fmt is SUMMARY}
    assert records[("vo.alpha", None)]["CpuDuration"] == 3 * 3600  # 10 less the users' 7 hours
    assert records[("vo.alpha", None)]["WallDuration"] == 2 * 3600
    assert records[("vo.alpha", "alice")]["CpuDuration"] == 4 * 3600
    assert records[("vo.alpha", "bob")]["WallDuration"] == 0  # mandatory, and bob has no wall time row
    assert records[("vo.beta", None)]["CpuDuration"] == 1800
    first = records[("vo.alpha", None)]
    assert (first["Site"], first["SubmitHost"], first["Month"], first["Year"]) == (
        "SITE-A",
        "ce.site-a.example.org",
        2,
        2027,
    )
    assert (first["ServiceLevelType"], first["ServiceLevel"]) == ("HEPscore23", 10.0)


def test_the_output_is_an_ssm_outgoing_queue_of_messages_of_at_most_500_records(hpc_site, tmp_path):
    alpha = hpc_site.resources["vo.alpha"]
    usage_report(reports=[_report(alpha, "cpu", 1, f"user{i:04d}") for i in range(1100)])
    result = apel_export(month=FEB, out=tmp_path, now=NOW)
    assert result.records == 1100 and result.messages == 3
    paths = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert all(re.fullmatch(r"[0-9a-f]{8}/[0-9a-f]{14}", p) for p in paths), paths  # no .tmp left
    assert paths == [p.relative_to(tmp_path).as_posix() for p in queue_elements(tmp_path)]  # in written order
    assert [len(parse_message(p.read_text(), now=NOW)[1]) for p in queue_elements(tmp_path)] == [500, 500, 100]
    subdirectory = int(paths[0][:8], 16)
    assert subdirectory % 60 == 0 and abs(subdirectory - datetime.now(UTC).timestamp()) < 3600


def test_cloud_offerings_export_cloud_summaries(cloud_site, tmp_path):
    gamma = cloud_site.resources["vo.gamma"]
    usage_report(reports=[_report(gamma, "cpu", 2), _report(gamma, "ram_gb_hours", "1.5")])
    apel_export(month=FEB, out=tmp_path, now=NOW)
    [(fmt, record)] = _records(tmp_path)
    assert fmt is CLOUD_SUMMARY
    assert (record["SiteName"], record["VO"], record["CpuDuration"], record["Memory"], record["NumberOfVMs"]) == (
        "CLOUD-A",
        "vo.gamma",
        7200,
        1536,
        1,
    )


def _export_queries(hpc_site, users: int) -> int:
    alpha = hpc_site.resources["vo.alpha"]
    usage_report(reports=[_report(alpha, "cpu", 1, f"u{users}-{i}") for i in range(users)])
    with CaptureQueriesContext(connection) as queries:
        assert sum(count for _, count in export_messages(month=FEB, now=NOW)) >= users
    return len(queries)


def test_the_export_reads_with_a_fixed_number_of_queries_whatever_the_rows(hpc_site):
    assert _export_queries(hpc_site, 20) == _export_queries(hpc_site, 700)


def test_the_export_is_lazy(hpc_site):
    alpha = hpc_site.resources["vo.alpha"]
    usage_report(reports=[_report(alpha, "cpu", 1, f"user{i:04d}") for i in range(1200)])
    stream = export_messages(month=FEB, now=NOW)
    text, count = next(stream)  # the first message comes before the rest of the month is made into records
    assert count == 500 and text.startswith(SUMMARY.header)
    stream.close()


def test_a_message_our_parser_refuses_is_never_written(hpc_site, tmp_path):
    alpha = hpc_site.resources["vo.alpha"]
    usage_report(reports=[_report(alpha, "cpu", 1)])
    Project.objects.filter(id=alpha.project_id).update(backend_id="vo.alpha\nSite")  # a VO that breaks the lines
    with pytest.raises(MessageRejected, match="Record contains a line  without a key-value pair: Site"):
        apel_export(month=FEB, out=tmp_path, now=NOW)
    assert list(queue_elements(tmp_path)) == []
