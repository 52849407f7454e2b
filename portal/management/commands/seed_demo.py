"""Create the demo customer, project, accounts, the demo offerings and an API token; safe to run again.

It lives in the portal, the layer that may use every app, and calls each app's seeder in turn.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from federation import services
from federation.demo import DEMO_CUID, DEMO_PASSWORD, demo_customer, demo_owner, demo_user, seed_demo_people
from federation.models import Project
from marketplace.demo import seed_demo_offering, seed_reviewed_offering


class Command(BaseCommand):
    help = "Seed demo data (customer, project, staff and other demo accounts) and print an API token."

    def add_arguments(self, parser):
        parser.add_argument("--token-file", help="Also write the token to this file.")

    @transaction.atomic
    def handle(self, *args, token_file=None, **options):
        staff = demo_user(
            username="demo-staff",
            full_name="Demo Staff",
            email="staff@example.org",
            is_staff=True,
            is_superuser=True,
        )
        customer = demo_customer(actor=staff, name="Demo University", abbreviation="DEMO", email="contact@example.org")
        project = Project.objects.filter(customer=customer, name="Demo project").first() or services.project_create(
            actor=staff, customer=customer, name="Demo project", description="A project to try the federation with."
        )
        demo_owner(actor=staff, customer=customer, user=staff)
        seed_demo_people(staff=staff, customer=customer)
        seed_demo_offering(staff=staff, customer=customer, project=project, stdout=self.stdout)
        seed_reviewed_offering(staff=staff, customer=customer, project=project, stdout=self.stdout)
        token = services.token_issue(user=staff)
        if token_file:
            with open(token_file, "w") as fh:
                fh.write(token + "\n")
        self.stdout.write(f"Demo customer: {customer.name} ({customer.uuid})")
        self.stdout.write(f"Demo project:  {project.name} ({project.uuid})")
        self.stdout.write(f"Accounts (password {DEMO_PASSWORD}):")
        self.stdout.write("  demo-staff      staff; the portal at /, the admin at /admin/")
        self.stdout.write("  allocator       owns Demo University; may look people up by CUID")
        self.stdout.write(f"  researcher      CUID {DEMO_CUID}")
        self.stdout.write(f"API token:     {token}")
