"""Import the APEL messages of a directory queue (SSM's incoming queue, or cASO's outgoing one)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apel.messages import MessageRejected, queue_elements
from apel.services import apel_message_import


class Command(BaseCommand):
    help = (
        "Import every message of the directory queue DIR, oldest first. An imported message is removed "
        "from the queue (unless --keep); a rejected one stays, and its reason is printed. Exit 1 when "
        "any message was rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--keep", action="store_true", help="Leave imported messages in the queue.")

    def handle(self, directory, keep, **options):
        if not Path(directory).is_dir():
            raise CommandError(f"{directory}: no such directory")
        done = rejected = records = unmatched = changed = 0
        for element in queue_elements(Path(directory)):
            try:
                result = apel_message_import(text=element.read_text(encoding="utf-8"))
            except (MessageRejected, UnicodeDecodeError) as exc:
                rejected += 1
                where = f" (record {exc.record + 1})" if getattr(exc, "record", None) is not None else ""
                self.stderr.write(f"{element}: rejected{where}: {getattr(exc, 'reason', exc)}")
                continue
            done += 1
            records += result.records
            unmatched += result.unmatched
            changed += result.usage_rows_changed
            if not keep:
                element.unlink()
            self.stdout.write(
                f"{element}: {result.records} {result.format} record(s), {result.unmatched} unmatched, "
                f"{result.usage_rows_changed} usage row(s) changed"
            )
        self.stdout.write(
            f"{done} message(s) imported ({records} records, {unmatched} unmatched, {changed} usage rows changed), "
            f"{rejected} rejected"
        )
        if rejected:
            raise SystemExit(1)
