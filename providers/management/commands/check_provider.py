"""A monitoring probe: one status line with performance data; exit 0/1/2/3 = OK/WARNING/CRITICAL/UNKNOWN.

Three checks, the worst one deciding the exit code (CRITICAL > WARNING > UNKNOWN > OK), in the
output Nagios, Icinga and ARGO read (`SERVICE STATUS - text | label=value[unit];warn;crit ...`):

- the provider itself: enabled, available, answered lately (as seen by our pulls and deliveries);
- each monitored endpoint of its registry (`ProviderEndpoint`): an HTTP(S) URL must answer below
  500 within --timeout seconds, a tcp://host:port must accept a connection;
- with --accounting-warning / --accounting-critical (hours): how long ago the provider's usage was
  last reported, as ARGO's `eu.egi.cloud.APEL-Pub` asks of a site publishing accounting.
"""

import socket
import sys
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Max
from django.utils import timezone

from accounting.models import ComponentUsage
from providers.models import OutboxMessage, Provider

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
LABELS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
SEVERITY = {OK: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3}


def _age(when) -> float:
    return (timezone.now() - when).total_seconds() if when else -1


def probe_endpoint(url: str, timeout: float) -> tuple[int, str, float]:
    """(status, text, seconds) of one endpoint: HTTP(S) answers below 500, tcp:// accepts a connection."""
    parts = urlsplit(url)
    started = time.monotonic()
    try:
        if parts.scheme == "tcp":
            with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
                pass
            return OK, "accepts connections", time.monotonic() - started
        answer = requests.get(url, timeout=timeout, allow_redirects=False)
    except (OSError, requests.RequestException, ValueError) as exc:
        return CRITICAL, f"unreachable ({type(exc).__name__})", time.monotonic() - started
    elapsed = time.monotonic() - started
    if answer.status_code >= 500:
        return CRITICAL, f"HTTP {answer.status_code}", elapsed
    return OK, f"HTTP {answer.status_code}", elapsed


class Command(BaseCommand):
    help = "Check one provider's health, endpoints and accounting (for Nagios/Icinga/ARGO-style monitoring)."

    def add_arguments(self, parser):
        parser.add_argument("provider_id")
        parser.add_argument(
            "--max-age",
            type=float,
            default=3 * settings.PROVIDER_SCHEDULE["manifest"],
            help="Seconds since the last successful contact before WARNING.",
        )
        parser.add_argument("--timeout", type=float, default=10.0, help="Seconds per endpoint probe.")
        parser.add_argument("--accounting-warning", type=float, help="Hours since the last usage report: WARNING.")
        parser.add_argument("--accounting-critical", type=float, help="Hours since the last usage report: CRITICAL.")

    def handle(self, provider_id, max_age, timeout, accounting_warning, accounting_critical, **options):
        provider = Provider.objects.filter(slug=provider_id).first()
        if provider is None:
            self._exit(UNKNOWN, f"no provider {provider_id!r}", "")
        results = [self._health(provider, max_age)]
        results += self._endpoints(provider, timeout)
        if accounting_warning is not None or accounting_critical is not None:
            results.append(self._accounting(provider, accounting_warning, accounting_critical))
        code = max((code for code, _, _ in results), key=SEVERITY.__getitem__)
        texts = [results[0][1]] + [text for c, text, _ in results[1:] if c != OK]
        if code == OK and len(results) > 1:
            texts.append(f"{len(results) - 1} other check(s) OK")
        self._exit(code, "; ".join(texts), " ".join(perf for _, _, perf in results if perf))

    def _health(self, provider: Provider, max_age: float) -> tuple[int, str, str]:
        pending = OutboxMessage.objects.filter(provider=provider, state=OutboxMessage.State.PENDING).count()
        failed = OutboxMessage.objects.filter(provider=provider, state=OutboxMessage.State.FAILED).count()
        contacts = [provider.last_manifest_pull_at, provider.last_usage_pull_at, provider.last_delivery_at]
        last_contact = max((c for c in contacts if c), default=None)
        age = _age(last_contact)
        perf = (
            f"pending={pending} failed={failed} consecutive_failures={provider.consecutive_failures} "
            f"last_contact_age={age:.0f}s manifest_age={_age(provider.last_manifest_pull_at):.0f}s"
        )
        if provider.status != Provider.Status.ENABLED:
            return WARNING, f"{provider.slug} is {provider.status}", perf
        if not provider.available:
            return CRITICAL, f"{provider.slug} unavailable: {provider.last_error or 'repeated failures'}", perf
        if last_contact is None:
            return UNKNOWN, f"{provider.slug} has never answered yet", perf
        if provider.consecutive_failures or age > max_age:
            text = f"{provider.slug} last answered {age:.0f}s ago, {provider.consecutive_failures} failure(s)"
            return WARNING, text, perf
        return OK, f"{provider.slug} answered {age:.0f}s ago", perf

    def _endpoints(self, provider: Provider, timeout: float) -> list[tuple[int, str, str]]:
        results = []
        for index, endpoint in enumerate(provider.endpoints.filter(monitored=True).order_by("id"), start=1):
            code, text, seconds = probe_endpoint(endpoint.url, timeout)
            label = f"{endpoint.service_type}_{index}_time"
            results.append(
                (code, f"{endpoint.service_type} {endpoint.url} {text}", f"{label}={seconds:.3f}s;;{timeout:g};0")
            )
        return results

    def _accounting(self, provider: Provider, warning: float | None, critical: float | None) -> tuple[int, str, str]:
        last = ComponentUsage.objects.filter(resource__offering__provider_link__provider=provider).aggregate(
            last=Max("reported_at")
        )["last"]
        warn_s = "" if warning is None else f"{warning * 3600:.0f}"
        crit_s = "" if critical is None else f"{critical * 3600:.0f}"
        if last is None:
            return CRITICAL, "no usage ever reported", f"usage_age=U;{warn_s};{crit_s}"
        age = _age(last)
        perf = f"usage_age={age:.0f}s;{warn_s};{crit_s};0"
        hours = age / 3600
        if critical is not None and hours > critical:
            return CRITICAL, f"last usage report {hours:.1f} h ago (critical above {critical:g} h)", perf
        if warning is not None and hours > warning:
            return WARNING, f"last usage report {hours:.1f} h ago (warning above {warning:g} h)", perf
        return OK, f"last usage report {hours:.1f} h ago", perf

    def _exit(self, code: int, text: str, perf: str):
        self.stdout.write(f"PROVIDER {LABELS[code]} - {text}" + (f" | {perf}" if perf else ""))
        sys.exit(code)
