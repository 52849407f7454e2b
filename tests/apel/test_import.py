"""Importing APEL messages: records become usage through the mapping; a resend changes nothing; strays are kept."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from accounting.models import ComponentUsage
from apel.messages import CLOUD, JOB, SUMMARY, MessageRejected, message_text
from apel.models import ApelRecord, UnmatchedApelRecord
from apel.services import apel_message_import
from federation.models import Project
from tests.factories import make_provider

FEB = date(2027, 2, 1)
NOW = datetime(2027, 3, 20, tzinfo=UTC)


def _at(day: int, hour: int = 0, month: int = 2) -> datetime:
    return datetime(2027, month, day, hour, tzinfo=UTC)


def _job(job_id: str, user: str, vo: str, cpu: int, wall: int, *, day: int = 10, site: str = "SITE-A") -> dict:
    return {
        "Site": site,
        "SubmitHost": "ce.site-a.example.org",
        "LocalJobId": job_id,
        "LocalUserId": user,
        "FQAN": f"/{vo}/Role=NULL/Capability=NULL",
        "WallDuration": wall,
        "CpuDuration": cpu,
        "StartTime": _at(day),
        "EndTime": _at(day, 5),
        "ServiceLevelType": "HEPscore23",
        "ServiceLevel": 10,
    }


def _usage() -> dict:
    return {
        (u.resource.project.backend_id, u.component_type, u.billing_period, u.username): u.usage
        for u in ComponentUsage.objects.select_related("resource__project")
    }


def _snapshot():
    return (
        sorted(ComponentUsage.objects.values_list("resource_id", "component_type", "username", "usage", "modified")),
        sorted(ApelRecord.objects.values_list("key", "month", "values", "received_at")),
    )


def test_job_records_become_usage_per_user_and_in_total(hpc_site):
    jobs = [
        _job("1", "alice", "vo.alpha", cpu=7200, wall=3600),
        _job("2", "bob", "vo.alpha", cpu=1800, wall=1800),
        _job("3", "alice", "vo.beta", cpu=3600, wall=3600, day=11),
    ]
    result = apel_message_import(text=message_text(JOB, jobs), now=NOW)
    assert (result.records, result.matched, result.unmatched) == (3, 3, 0)
    usage = _usage()
    assert usage[("vo.alpha", "cpu", FEB, "")] == Decimal("2.5")  # (7200 + 1800) s / 3600
    assert usage[("vo.alpha", "cpu", FEB, "alice")] == Decimal(2)
    assert usage[("vo.alpha", "cpu", FEB, "bob")] == Decimal("0.5")
    assert usage[("vo.alpha", "wall_hours", FEB, "")] == Decimal("1.5")
    assert usage[("vo.beta", "cpu", FEB, "alice")] == Decimal(1)
    assert len(usage) == 10  # two components × (total + each user) × resource


def test_a_resent_message_changes_nothing(hpc_site):
    text = message_text(JOB, [_job("1", "alice", "vo.alpha", cpu=7200, wall=3600)])
    apel_message_import(text=text, now=NOW)
    before = _snapshot()
    again = apel_message_import(text=text, now=datetime(2027, 3, 21, tzinfo=UTC))
    assert again.usage_rows_changed == 0 and again.matched == 1
    assert _snapshot() == before


def test_a_later_job_adds_to_the_month_and_a_resent_one_does_not(hpc_site):
    first = _job("1", "alice", "vo.alpha", cpu=3600, wall=3600)
    apel_message_import(text=message_text(JOB, [first]), now=NOW)
    apel_message_import(text=message_text(JOB, [first, _job("2", "alice", "vo.alpha", 3600, 3600)]), now=NOW)
    assert _usage()[("vo.alpha", "cpu", FEB, "alice")] == Decimal(2)


def test_summaries_replace_their_own_earlier_copy(hpc_site):
    summary = {"Site": "SITE-A", "SubmitHost": "ce.site-a.example.org", "Month": 2, "Year": 2027, "VO": "vo.beta",
               "GlobalUserName": "carol", "WallDuration": 7200, "CpuDuration": 14400, "NumberOfJobs": 4}  # fmt: skip
    apel_message_import(text=message_text(SUMMARY, [summary]), now=NOW)
    apel_message_import(text=message_text(SUMMARY, [{**summary, "CpuDuration": 18000}]), now=NOW)
    usage = _usage()
    assert usage[("vo.beta", "cpu", FEB, "carol")] == Decimal(5) == usage[("vo.beta", "cpu", FEB, "")]


def _vm(vm: str, group: str, *, wall: int, cpu: int, memory: int, created: datetime) -> dict:
    return {
        "VMUUID": vm,
        "SiteName": "CLOUD-A",
        "CloudComputeService": "https://keystone.cloud-a.example.org:5000/v3",
        "LocalUserId": "u-1",
        "LocalGroupId": group,
        "RecordCreateTime": created,
        "StartTime": _at(1),
        "WallDuration": wall,
        "CpuDuration": cpu,
        "CpuCount": 2,
        "Memory": memory,
    }


def test_cloud_records_are_cumulative_per_vm_and_month(cloud_site):
    feb_early = _vm("vm-1", "os-vo.gamma", wall=3600, cpu=3600, memory=2048, created=_at(2))
    feb_late = _vm("vm-1", "os-vo.gamma", wall=7200, cpu=5400, memory=2048, created=_at(5))
    march = _vm("vm-1", "os-vo.gamma", wall=18000, cpu=9000, memory=2048, created=_at(3, month=3))
    apel_message_import(text=message_text(CLOUD, [feb_early, march]), now=NOW)
    usage = _usage()
    assert usage[("vo.gamma", "cpu", FEB, "")] == Decimal(1)  # the VM's first February record
    assert usage[("vo.gamma", "cpu", date(2027, 3, 1), "")] == Decimal("1.5")  # (9000 - 3600) s
    assert usage[("vo.gamma", "ram_gb_hours", FEB, "u-1")] == Decimal(2)  # 2 GB for one hour
    # A later February record replaces the earlier one, and March is measured from it.
    apel_message_import(text=message_text(CLOUD, [feb_late]), now=NOW)
    usage = _usage()
    assert usage[("vo.gamma", "cpu", FEB, "")] == Decimal("1.5")
    assert usage[("vo.gamma", "cpu", date(2027, 3, 1), "")] == Decimal(1)  # (9000 - 5400) s
    assert usage[("vo.gamma", "ram_gb_hours", date(2027, 3, 1), "")] == Decimal(6)  # 2 GB × 3 h
    # The earlier record arriving late changes nothing: the month keeps its latest record.
    before = _snapshot()
    apel_message_import(text=message_text(CLOUD, [feb_early]), now=NOW)
    assert _snapshot() == before


def test_records_that_match_nothing_are_kept_once_and_listed(hpc_site):
    stray_site = _job("9", "dave", "vo.alpha", 60, 60, site="ELSEWHERE")
    stray_vo = _job("10", "erin", "vo.unknown", 60, 60)
    text = message_text(JOB, [stray_site, stray_vo, _job("1", "alice", "vo.alpha", 3600, 3600)])
    result = apel_message_import(text=text, now=NOW)
    assert (result.matched, result.unmatched) == (1, 2)
    apel_message_import(text=text, now=NOW)
    rows = {row.site_name + "/" + row.vo: row for row in UnmatchedApelRecord.objects.all()}
    assert set(rows) == {"ELSEWHERE/vo.alpha", "SITE-A/vo.unknown"}
    assert "No hpc mapping for site 'ELSEWHERE'" in rows["ELSEWHERE/vo.alpha"].reason
    assert "VO 'vo.unknown' names no resource" in rows["SITE-A/vo.unknown"].reason
    assert rows["SITE-A/vo.unknown"].times_received == 2
    assert "LocalJobId: 10\n" in rows["SITE-A/vo.unknown"].record


def test_a_provider_imports_only_into_its_own_offerings(hpc_site):
    other = make_provider("site-b")
    result = apel_message_import(
        text=message_text(JOB, [_job("1", "alice", "vo.alpha", 3600, 3600)]), provider=other.provider, now=NOW
    )
    assert (result.matched, result.unmatched) == (0, 1)
    assert not ComponentUsage.objects.exists()
    assert UnmatchedApelRecord.objects.get().provider == other.provider


def test_a_rejected_message_stores_nothing(hpc_site):
    good = message_text(JOB, [_job("1", "alice", "vo.alpha", 3600, 3600), _job("9", "x", "vo.none", 1, 1)])
    bad = good + "Site: SITE-A\nLocalJobId: 2\nWallDuration: 1.5\n"
    with pytest.raises(MessageRejected, match="Invalid int value 1.5 in field WallDuration"):
        apel_message_import(text=bad, now=NOW)
    assert not ComponentUsage.objects.exists()
    assert not ApelRecord.objects.exists() and not UnmatchedApelRecord.objects.exists()


def test_a_record_set_aside_leaves_the_list_once_it_matches(hpc_site):
    text = message_text(JOB, [_job("10", "erin", "vo.later", 3600, 3600)])
    assert apel_message_import(text=text, now=NOW).unmatched == 1
    Project.objects.filter(id=hpc_site.resources["vo.beta"].project_id).update(backend_id="vo.later")
    assert apel_message_import(text=text, now=NOW).matched == 1
    assert not UnmatchedApelRecord.objects.exists()
    assert _usage()[("vo.later", "cpu", FEB, "erin")] == Decimal(1)
