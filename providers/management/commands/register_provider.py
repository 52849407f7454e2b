"""Register (or update the keys of) a provider from the command line; optionally link offerings to it."""

import json

from django.core.management.base import BaseCommand, CommandError

from common.exceptions import DomainError
from federation.models import Customer, User
from providers import services
from providers.models import Provider
from providers.tasks import pull_manifest


class Command(BaseCommand):
    help = "Register a provider with its public keys (JWKS file), or refresh the keys of a registered one."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--domain", required=True, help="host[:port] the provider's API answers on")
        parser.add_argument("--no-https", action="store_true", help="plain HTTP (development only)")
        parser.add_argument("--env", default="production", choices=[c for c, _ in Provider.Env.choices])
        parser.add_argument("--customer", required=True, help="operating organisation: name or uuid")
        parser.add_argument("--jwks-file", required=True, help='the provider\'s public keys, {"keys": [...]}')
        parser.add_argument("--offering", action="append", default=[], help="offering uuid or name to link")

    def handle(self, slug, name, domain, no_https, env, customer, jwks_file, offering, **options):
        from marketplace.models import Offering

        actor = User.objects.filter(is_staff=True).order_by("id").first()
        if actor is None:
            raise CommandError("No staff user exists; create one first (manage.py createsuperuser).")
        org = Customer.objects.filter(name=customer).first() or Customer.objects.filter(uuid=_uuid(customer)).first()
        if org is None:
            raise CommandError(f"No customer named {customer!r}.")
        try:
            with open(jwks_file) as fh:
                jwks = json.load(fh)
        except (OSError, ValueError) as exc:
            raise CommandError(f"{jwks_file}: {exc}") from None
        try:
            provider = Provider.objects.filter(slug=slug).first()
            if provider is None:
                provider = services.provider_register(
                    actor=actor,
                    slug=slug,
                    name=name or slug,
                    domain=domain,
                    customer=org,
                    jwks=jwks,
                    https=not no_https,
                    env=env,
                )
                self.stdout.write(f"registered provider {slug} at {provider.base_url}")
            else:
                services.provider_update_keys(actor=actor, provider=provider, jwks=jwks)
                Provider.objects.filter(id=provider.id).update(domain=domain, https=not no_https, env=env)
                pull_manifest.delay(provider.id)  # what the site can do may have changed with it
                self.stdout.write(f"updated provider {slug}; its manifest is pulled again")
        except DomainError as exc:
            raise CommandError(f"{exc.field or 'error'}: {exc.message}") from None
        for ref in offering:
            match = Offering.objects.filter(name=ref).first() or Offering.objects.filter(uuid=_uuid(ref)).first()
            if match is None:
                raise CommandError(f"No offering {ref!r}.")
            services.offering_link_provider(offering=match, provider=provider)
            self.stdout.write(f"offering {match.name} is run by {slug}")


def _uuid(value: str):
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        return None
