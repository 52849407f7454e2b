"""Messages made by cASO itself (its CloudRecord and its SSM messenger's queue) are accepted and mapped."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounting.models import ComponentUsage
from apel.messages import queue_elements

caso_record = pytest.importorskip("caso.record")
caso_ssm = pytest.importorskip("caso.messenger.ssm")
cfg = pytest.importorskip("oslo_config.cfg")

OCTOBER = date(2026, 10, 1)


def _vm(group: str, user: str, *, hours: int, vm: uuid.UUID | None = None, fqan: str = "vo.gamma"):
    record = caso_record.CloudRecord(
        uuid=vm or uuid.uuid4(),
        site_name="CLOUD-A",
        name="worker",
        user_id=user,
        group_id=group,
        fqan=fqan,
        status="started",
        cpu_count=2,
        memory=4096,
        disk=20,
        compute_service="https://keystone.cloud-a.example.org:5000/v3",
        start_time=datetime(2026, 10, 1, tzinfo=UTC),
        end_time=None,  # still running: cASO writes EndTime 0
    )
    record.wall_duration = hours * 3600
    return record


@pytest.fixture
def caso_queue(tmp_path):
    """cASO's SSM messenger writing into a directory of the test."""
    cfg.CONF.set_override("output_path", str(tmp_path), group="ssm")
    yield tmp_path
    cfg.CONF.clear_override("output_path", group="ssm")


def test_casos_own_messages_are_imported_and_mapped(cloud_site, caso_queue, capsys):
    vm = uuid.uuid4()
    records = [_vm("os-vo.gamma", "u-1", hours=3, vm=vm)]
    records += [_vm("os-vo.delta", f"u-{i}", hours=1) for i in range(150)]
    records.append(_vm("os-unknown", "u-9", hours=1, fqan="vo.unknown"))
    caso_ssm.SSMMessenger().push(records)
    elements = list(queue_elements(caso_queue))
    assert len(elements) == 2  # cASO's 100 records a message
    assert elements[0].read_text().startswith("APEL-cloud-message: v0.4\n")

    call_command("apel_import", str(caso_queue))
    assert "2 message(s) imported (152 records, 1 unmatched" in capsys.readouterr().out
    assert list(queue_elements(caso_queue)) == []  # consumed
    usage = {
        (u.resource.project.backend_id, u.component_type, u.username): u.usage
        for u in ComponentUsage.objects.filter(billing_period=OCTOBER).select_related("resource__project")
    }
    # cASO's CpuDuration is wall × cores when it has no CPU time: 3 h × 2 cores; memory 4 GB for 3 h.
    assert usage[("vo.gamma", "cpu", "")] == Decimal(6) == usage[("vo.gamma", "cpu", "u-1")]
    assert usage[("vo.gamma", "ram_gb_hours", "")] == Decimal(12)
    assert usage[("vo.delta", "cpu", "")] == Decimal(300)  # 150 VMs × 1 h × 2 cores

    # cASO runs again an hour later: the same VM's cumulative record replaces the earlier one.
    caso_ssm.SSMMessenger().push([_vm("os-vo.gamma", "u-1", hours=4, vm=vm)])
    call_command("apel_import", str(caso_queue))
    assert ComponentUsage.objects.get(
        resource__project__backend_id="vo.gamma", component_type="cpu", username="", billing_period=OCTOBER
    ).usage == Decimal(8)
