"""`apel_import DIR` and `apel_export`: a queue consumed message by message, rejections left in place."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounting.models import ComponentUsage
from apel.messages import JOB, queue_add, queue_elements


def _job(job_id: str, wall: str = "3600") -> str:
    return (
        f"Site: SITE-A\nSubmitHost: ce.site-a.example.org\nLocalJobId: {job_id}\nLocalUserId: alice\nVO: vo.alpha\n"
        f"WallDuration: {wall}\nCpuDuration: 7200\nStartTime: 1767258000\nEndTime: 1767261600\n"
        "ServiceLevelType: HEPscore23\nServiceLevel: 10\n%%\n"
    )


def test_import_consumes_the_queue_and_leaves_rejected_messages_with_their_reason(hpc_site, tmp_path):
    queue_add(tmp_path, JOB.header + "\n" + _job("1"))
    rejected = queue_add(tmp_path, JOB.header + "\n" + _job("2") + _job("3", wall="1.5"))
    queue_add(tmp_path, JOB.header + "\n" + _job("4"))
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("apel_import", str(tmp_path), stdout=out, stderr=err)
    assert exited.value.code == 1
    assert out.getvalue().count("1 job record(s), 0 unmatched") == 2
    assert "2 message(s) imported (2 records, 0 unmatched, 8 usage rows changed), 1 rejected" in out.getvalue()
    assert f"{rejected}: rejected (record 2): Invalid int value 1.5 in field WallDuration" in err.getvalue()
    assert list(queue_elements(tmp_path)) == [rejected]
    assert ComponentUsage.objects.get(username="", component_type="cpu").usage == 4  # jobs 1 and 4, 2 h each


def test_import_keep_leaves_the_queue_as_it_was(hpc_site, tmp_path):
    element = queue_add(tmp_path, JOB.header + "\n" + _job("1"))
    call_command("apel_import", str(tmp_path), "--keep", stdout=StringIO())
    assert list(queue_elements(tmp_path)) == [element]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "--month: give YYYY-MM"),
        (["--month", "2999-01"], "a month in the future"),
        (["--month", "2026-01", "--provider", "nope"], "no provider 'nope'"),
    ],
)
def test_export_refuses_bad_arguments(db, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("apel_export", *args, "--out", str(tmp_path))
