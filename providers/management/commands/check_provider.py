"""A monitoring probe: one status line with performance data; exit 0/1/2/3 = OK/WARNING/CRITICAL/UNKNOWN."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from providers.models import OutboxMessage, Provider

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
LABELS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}


def _age(when) -> float:
    return (timezone.now() - when).total_seconds() if when else -1


class Command(BaseCommand):
    help = "Check one provider's health (for Nagios/Icinga-style monitoring)."

    def add_arguments(self, parser):
        parser.add_argument("provider_id")
        parser.add_argument(
            "--max-age",
            type=float,
            default=3 * settings.PROVIDER_SCHEDULE["manifest"],
            help="Seconds since the last successful contact before WARNING.",
        )

    def handle(self, provider_id, max_age, **options):
        provider = Provider.objects.filter(slug=provider_id).first()
        if provider is None:
            self._exit(UNKNOWN, f"no provider {provider_id!r}", "")
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
            code, text = WARNING, f"{provider.slug} is {provider.status}"
        elif not provider.available:
            code, text = CRITICAL, f"{provider.slug} unavailable: {provider.last_error or 'repeated failures'}"
        elif last_contact is None:
            code, text = UNKNOWN, f"{provider.slug} has never answered yet"
        elif provider.consecutive_failures or age > max_age:
            code, text = (
                WARNING,
                f"{provider.slug} last answered {age:.0f}s ago, {provider.consecutive_failures} failure(s)",
            )
        else:
            code, text = OK, f"{provider.slug} answered {age:.0f}s ago"
        self._exit(code, text, perf)

    def _exit(self, code: int, text: str, perf: str):
        self.stdout.write(f"PROVIDER {LABELS[code]} - {text}" + (f" | {perf}" if perf else ""))
        sys.exit(code)
