"""The four APEL message formats we speak, as APEL's loader (release 2.5.0) defines them.

Each format names its header, its fields in message order, which of them are mandatory, and which
hold integers, floats and datetimes; the checks a format adds beyond the field types (the job
record's benchmark pair and end time, the summaries' month rules) live in `checks.py`.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class RecordFormat:
    name: str
    header: str  # the whole first line, version included
    fields: tuple[str, ...]
    mandatory: tuple[str, ...]
    ints: frozenset[str] = frozenset()
    floats: frozenset[str] = frozenset()
    datetimes: frozenset[str] = frozenset()

    @property
    def kind(self) -> str:
        """ "cloud" or "hpc": which mapping kind reads this format."""
        return "cloud" if self.name.startswith("cloud") else "hpc"


CLOUD = RecordFormat(
    name="cloud",
    header="APEL-cloud-message: v0.4",
    fields=(
        "RecordCreateTime",
        "VMUUID",
        "SiteName",
        "CloudComputeService",
        "MachineName",
        "LocalUserId",
        "LocalGroupId",
        "GlobalUserName",
        "FQAN",
        "Status",
        "StartTime",
        "EndTime",
        "SuspendDuration",
        "WallDuration",
        "CpuDuration",
        "CpuCount",
        "NetworkType",
        "NetworkInbound",
        "NetworkOutbound",
        "PublicIPCount",
        "Memory",
        "Disk",
        "BenchmarkType",
        "Benchmark",
        "StorageRecordId",
        "ImageId",
        "CloudType",
    ),  # fmt: skip
    mandatory=("VMUUID", "SiteName"),
    ints=frozenset(
        {
            "SuspendDuration",
            "WallDuration",
            "CpuDuration",
            "NetworkInbound",
            "NetworkOutbound",
            "PublicIPCount",
            "Memory",
            "Disk",
        }  # fmt: skip
    ),
    floats=frozenset({"CpuCount", "Benchmark"}),
    datetimes=frozenset({"RecordCreateTime", "StartTime", "EndTime"}),
)

CLOUD_SUMMARY = RecordFormat(
    name="cloud-summary",
    header="APEL-cloud-summary-message: v0.4",
    fields=(
        "SiteName",
        "CloudComputeService",
        "Month",
        "Year",
        "GlobalUserName",
        "VO",
        "VOGroup",
        "VORole",
        "Status",
        "CloudType",
        "ImageId",
        "EarliestStartTime",
        "LatestStartTime",
        "WallDuration",
        "CpuDuration",
        "CpuCount",
        "NetworkInbound",
        "NetworkOutbound",
        "Memory",
        "Disk",
        "BenchmarkType",
        "Benchmark",
        "NumberOfVMs",
    ),  # fmt: skip
    mandatory=("SiteName", "Month", "Year", "NumberOfVMs"),
    ints=frozenset(
        {
            "Month",
            "Year",
            "WallDuration",
            "CpuDuration",
            "NetworkInbound",
            "NetworkOutbound",
            "Memory",
            "Disk",
            "NumberOfVMs",
        }  # fmt: skip
    ),
    floats=frozenset({"CpuCount", "Benchmark"}),
    datetimes=frozenset({"EarliestStartTime", "LatestStartTime"}),
)

JOB = RecordFormat(
    name="job",
    header="APEL-individual-job-message: v0.3",
    fields=(
        "Site",
        "SubmitHost",
        "MachineName",
        "Queue",
        "LocalJobId",
        "LocalUserId",
        "GlobalUserName",
        "FQAN",
        "VO",
        "VOGroup",
        "VORole",
        "WallDuration",
        "CpuDuration",
        "Processors",
        "NodeCount",
        "StartTime",
        "EndTime",
        "InfrastructureDescription",
        "InfrastructureType",
        "MemoryReal",
        "MemoryVirtual",
        "ServiceLevelType",
        "ServiceLevel",
    ),  # fmt: skip
    mandatory=("Site", "LocalJobId", "WallDuration", "CpuDuration", "StartTime", "EndTime"),
    ints=frozenset({"WallDuration", "CpuDuration", "Processors", "NodeCount", "MemoryReal", "MemoryVirtual"}),
    floats=frozenset({"ServiceLevel"}),
    datetimes=frozenset({"StartTime", "EndTime"}),
)

SUMMARY = RecordFormat(
    name="summary",
    header="APEL-summary-job-message: v0.2",
    fields=(
        "Site",
        "Month",
        "Year",
        "GlobalUserName",
        "VO",
        "VOGroup",
        "VORole",
        "SubmitHost",
        "InfrastructureType",
        "InfrastructureDescription",
        "ServiceLevelType",
        "ServiceLevel",
        "NodeCount",
        "Processors",
        "EarliestEndTime",
        "LatestEndTime",
        "WallDuration",
        "CpuDuration",
        "NumberOfJobs",
    ),  # fmt: skip
    mandatory=("Site", "Month", "Year", "WallDuration", "CpuDuration", "NumberOfJobs"),
    ints=frozenset({"Month", "Year", "NodeCount", "Processors", "WallDuration", "CpuDuration", "NumberOfJobs"}),
    floats=frozenset({"ServiceLevel"}),
    datetimes=frozenset({"EarliestEndTime", "LatestEndTime"}),
)

FORMATS = {f.header: f for f in (CLOUD, CLOUD_SUMMARY, JOB, SUMMARY)}
BENCHMARK_TYPES = ("si2k", "hepspec", "HEPscore23")  # the job formats' ServiceLevelType, any case
