"""The APEL exchange over HTTP: a provider's signed messages in, staff's unmatched list and export out."""

import io
import re
import tarfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from accounting.models import ComponentUsage
from accounting.services import UsageReport, usage_report
from apel.messages import JOB, SUMMARY, parse_message
from apel.models import ApelRecord, UnmatchedApelRecord
from protocol.http import signed_headers
from protocol.keys import generate_private_key
from providers.models import ProviderEndpoint

URL = "/api/provider/apel/"
NOW = datetime(2026, 3, 20, tzinfo=UTC)


def _job(job_id: str, vo: str = "vo.alpha", wall: str = "3600") -> str:
    return (
        f"Site: SITE-A\nSubmitHost: ce.site-a.example.org\nLocalJobId: {job_id}\nLocalUserId: alice\nVO: {vo}\n"
        f"WallDuration: {wall}\nCpuDuration: 7200\nStartTime: 1767258000\nEndTime: 1767261600\n"
        "ServiceLevelType: HEPscore23\nServiceLevel: 10\n"
    )


def _message(*records: str) -> str:
    return JOB.header + "\n" + "%%\n".join(records) + "%%\n"


def _post(client, site, text: str, *, key=None, path: str = URL):
    body = text.encode("utf-8")
    headers = signed_headers(
        private_key=key or site.keys.key,
        kid=site.keys.kid,
        issuer=site.keys.slug,
        audience="federation",
        method="POST",
        path=path,
        body=body,
    )
    return client.post(URL, data=body, content_type="text/plain", HTTP_AUTHORIZATION=headers["Authorization"])


def _nothing_stored() -> bool:
    return not (ComponentUsage.objects.exists() or ApelRecord.objects.exists() or UnmatchedApelRecord.objects.exists())


def test_a_signed_message_is_imported_and_answered_with_counts(client, hpc_site):
    answer = _post(client, hpc_site.site, _message(_job("1"), _job("2", vo="vo.nowhere")))
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"format": "job", "records": 2, "matched": 1, "unmatched": 1, "usage_rows_changed": 4}
    assert ComponentUsage.objects.get(username="", component_type="cpu").usage == Decimal(2)
    again = _post(client, hpc_site.site, _message(_job("1"), _job("2", vo="vo.nowhere")))
    assert again.json()["usage_rows_changed"] == 0


@pytest.mark.parametrize("case", ["unsigned", "forged", "other_path"])
def test_unsigned_or_forged_messages_are_refused_and_nothing_is_stored(client, hpc_site, case):
    text = _message(_job("1"))
    if case == "unsigned":
        answer = client.post(URL, data=text.encode(), content_type="text/plain")
    elif case == "forged":
        answer = _post(client, hpc_site.site, text, key=generate_private_key())
    else:
        answer = _post(client, hpc_site.site, text, path="/api/provider/usage/")
    assert answer.status_code in (401, 403)
    assert _nothing_stored()


def test_a_bad_message_answers_400_with_apels_reason_and_stores_nothing(client, hpc_site):
    answer = _post(client, hpc_site.site, _message(_job("1"), _job("2", wall="1.5")))
    assert answer.status_code == 400
    assert answer.json() == {"detail": "Invalid int value 1.5 in field WallDuration", "record": 1}
    assert _nothing_stored()
    answer = _post(client, hpc_site.site, "APEL-sync-message: v0.1\n")
    assert (
        answer.status_code == 400 and answer.json()["detail"] == "Message type APEL-sync-message: v0.1 not recognised."
    )


def test_staff_list_unmatched_records_others_see_none(api, client, hpc_site, staff, member, django_assert_num_queries):
    _post(client, hpc_site.site, _message(*(_job(str(i), vo=f"vo.stray{i}") for i in range(5))))
    client = api.as_user(staff)
    with django_assert_num_queries(3):  # token + count + page
        rows = client.get("/api/apel-unmatched-records/").json()
    assert len(rows) == 5 and rows[0]["provider"] == "site-a" and rows[0]["format"] == "job"
    assert "names no resource" in rows[0]["reason"]
    assert api.as_user(staff).get("/api/apel-unmatched-records/", {"site_name": "OTHER"}).json() == []
    assert api.as_user(member).get("/api/apel-unmatched-records/").json() == []


def test_staff_export_a_month_as_a_tar_of_an_ssm_queue(api, hpc_site, staff, member):
    alpha = hpc_site.resources["vo.alpha"]
    usage_report(
        reports=[
            UsageReport(resource_id=alpha.id, component_type="cpu", billing_period=date(2026, 1, 1), usage=Decimal(3))
        ]
    )
    assert api.as_user(member).get("/api/apel-export/", {"month": "2026-01"}).status_code == 403
    assert api.as_user(staff).get("/api/apel-export/", {"month": "2026-13"}).status_code == 400
    assert api.as_user(staff).get("/api/apel-export/", {"month": "2026-01", "provider": "nope"}).status_code == 404
    answer = api.as_user(staff).get("/api/apel-export/", {"month": "2026-01"})
    assert answer.status_code == 200 and answer["Content-Type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(b"".join(answer.streaming_content))) as tar:
        [member_info] = tar.getmembers()
        assert re.fullmatch(r"outgoing/[0-9a-f]{8}/[0-9a-f]{14}", member_info.name)
        fmt, [record] = parse_message(tar.extractfile(member_info).read().decode(), now=NOW)
    assert fmt is SUMMARY and record["CpuDuration"] == 3 * 3600 and record["VO"] == "vo.alpha"


def test_the_provider_shows_its_endpoints(api, hpc_site, staff, django_assert_num_queries):
    ProviderEndpoint.objects.create(
        provider=hpc_site.site.provider, service_type="eu.egi.cloud.accounting", url="https://acct.example.org/"
    )
    ProviderEndpoint.objects.create(
        provider=hpc_site.site.provider, service_type="org.openstack.nova", url="tcp://n:8774"
    )
    client = api.as_user(staff)
    with django_assert_num_queries(3):  # token + provider + endpoints
        answer = client.get("/api/providers/site-a/")
    assert answer.json()["endpoints"] == [
        {"service_type": "eu.egi.cloud.accounting", "url": "https://acct.example.org/", "monitored": True},
        {"service_type": "org.openstack.nova", "url": "tcp://n:8774", "monitored": True},
    ]
