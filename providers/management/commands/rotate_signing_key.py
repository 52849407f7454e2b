from django.core.management.base import BaseCommand

from providers.models import SigningKey
from providers.services import signing_key_create, signing_key_retire


class Command(BaseCommand):
    help = (
        "Rotate the orchestrator's signing key without downtime: `--new` adds a key that signs from now on "
        "(the old one stays published so tokens in flight still verify); later `--retire KID` drops the old one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--new", action="store_true")
        parser.add_argument("--retire", metavar="KID")

    def handle(self, new=False, retire=None, **options):
        if new:
            SigningKey.objects.filter(active=True).update(active=False)
            key = signing_key_create()
            self.stdout.write(f"new signing key {key.kid}")
        if retire:
            signing_key_retire(kid=retire)
            self.stdout.write(f"retired {retire}")
        for key in SigningKey.objects.all():
            self.stdout.write(f"{key.kid}  active={key.active}  published={key.published}")
