"""Write a month's usage as APEL summary messages into an SSM outgoing queue (`ssmsend` ships it unchanged)."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apel.services import apel_export
from providers.models import Provider


def month_argument(value: str) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise CommandError(f"--month: give YYYY-MM, not {value!r}") from None


class Command(BaseCommand):
    help = "Export a month's usage as APEL summaries (job v0.2 for HPC, cloud v0.4 for cloud) into DIR."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--provider", help="Only this provider's offerings (its slug).")
        parser.add_argument("--out", required=True, help="The SSM outgoing directory (created if missing).")

    def handle(self, month, provider, out, **options):
        month = month_argument(month)
        if month > timezone.now().date().replace(day=1):
            raise CommandError("--month: a month in the future has no usage (APEL refuses it).")
        chosen = None
        if provider:
            chosen = Provider.objects.filter(slug=provider).first()
            if chosen is None:
                raise CommandError(f"--provider: no provider {provider!r}")
        result = apel_export(month=month, out=Path(out), provider=chosen)
        self.stdout.write(f"{result.records} record(s) in {result.messages} message(s) written to {out}")
