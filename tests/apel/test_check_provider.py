"""`check_provider`: per-endpoint probes and the accounting freshness check, in Nagios's output and exit codes."""

import http.server
import re
import socket
import threading
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounting.models import ComponentUsage
from accounting.services import UsageReport, usage_report
from providers.models import Provider, ProviderEndpoint

PERF = re.compile(r"^[^=\s]+=[-\d.U]+[a-zA-Z%]*(;[-\d.]*){0,4}$")  # label=value[unit];warn;crit;min;max


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(503 if self.path.startswith("/down") else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_endpoint():
    """A local HTTP server: 401 (reachable, asks for credentials) at /, 503 under /down."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _check(slug: str, *args: str) -> tuple[int, str, list[str]]:
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("check_provider", slug, "--timeout", "2", *args, stdout=out)
    line = out.getvalue().strip()
    assert "\n" not in line
    text, _, perf = line.partition(" | ")
    labels = perf.split()
    assert all(PERF.match(label) for label in labels), labels
    return exited.value.code, text, labels


@pytest.fixture
def answering(hpc_site):
    Provider.objects.filter(id=hpc_site.site.provider.id).update(last_manifest_pull_at=timezone.now())
    return hpc_site.site.provider


def test_endpoints_are_probed_each_with_its_timing(answering, http_endpoint):
    ProviderEndpoint.objects.create(provider=answering, service_type="eu.egi.cloud.accounting", url=http_endpoint)
    code, text, perf = _check(answering.slug)
    assert code == 0 and text.startswith("PROVIDER OK - site-a answered") and "1 other check(s) OK" in text
    assert any(p.startswith("eu.egi.cloud.accounting_1_time=") and p.endswith("s;;2;0") for p in perf)

    ProviderEndpoint.objects.create(provider=answering, service_type="org.openstack.nova", url=f"{http_endpoint}/down")
    code, text, _ = _check(answering.slug)
    assert code == 2 and "org.openstack.nova" in text and "HTTP 503" in text

    ProviderEndpoint.objects.filter(service_type="org.openstack.nova").update(monitored=False)
    port = _closed_port()
    ProviderEndpoint.objects.create(
        provider=answering, service_type="org.openstack.swift", url=f"tcp://127.0.0.1:{port}"
    )
    code, text, _ = _check(answering.slug)
    assert code == 2 and "org.openstack.swift" in text and "unreachable" in text


def _report(provider, hours_ago: float) -> None:
    resource = provider.offering_links.get().offering.resources.first()
    usage_report(
        reports=[
            UsageReport(
                resource_id=resource.id, component_type="cpu", billing_period=date(2026, 1, 1), usage=Decimal(1)
            )
        ]
    )
    ComponentUsage.objects.update(reported_at=timezone.now() - timedelta(hours=hours_ago))


@pytest.mark.parametrize(("hours_ago", "code"), [(None, 2), (1, 0), (30, 1), (80, 2)])
def test_accounting_freshness(answering, hours_ago, code):
    if hours_ago is not None:
        _report(answering, hours_ago)
    got, text, perf = _check(answering.slug, "--accounting-warning", "24", "--accounting-critical", "72")
    assert got == code, text
    usage_age = next(p for p in perf if p.startswith("usage_age="))
    assert usage_age.split(";")[1:3] == ["86400", "259200"]
    if hours_ago is None:
        assert "no usage ever reported" in text


def test_without_accounting_thresholds_there_is_no_accounting_check(answering):
    code, text, perf = _check(answering.slug)
    assert code == 0 and not any(p.startswith("usage_age") for p in perf)
