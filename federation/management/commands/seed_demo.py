"""Create the demo customer, project, staff user and an API token; safe to run again."""

from django.core.management.base import BaseCommand
from django.db import transaction

from federation import services
from federation.models import Customer, Project, Role, RoleGrant, RoleName, User

DEMO_PASSWORD = "demo-password-change-me"


class Command(BaseCommand):
    help = "Seed demo data (customer, project, staff user) and print an API token."

    def add_arguments(self, parser):
        parser.add_argument("--token-file", help="Also write the token to this file.")

    @transaction.atomic
    def handle(self, *args, token_file=None, **options):
        staff, created = User.objects.get_or_create(
            username="demo-staff", defaults={"full_name": "Demo Staff", "email": "staff@example.org", "is_staff": True}
        )
        if created:
            staff.is_superuser = True
            staff.set_password(DEMO_PASSWORD)
            staff.save()
        customer = Customer.objects.filter(name="Demo University").first() or services.customer_create(
            actor=staff, name="Demo University", abbreviation="DEMO", email="contact@example.org"
        )
        project = Project.objects.filter(customer=customer, name="Demo project").first() or services.project_create(
            actor=staff, customer=customer, name="Demo project", description="A project to try the federation with."
        )
        owner_role = Role.objects.get(name=RoleName.CUSTOMER_OWNER)
        if not RoleGrant.objects.active().filter(user=staff, role=owner_role, customer=customer).exists():
            services.role_grant(actor=staff, scope=customer, user=staff, role=owner_role)
        for hook in self.extra_seeders():
            hook(staff=staff, customer=customer, project=project, stdout=self.stdout)
        token = services.token_issue(user=staff)
        if token_file:
            with open(token_file, "w") as fh:
                fh.write(token + "\n")
        self.stdout.write(f"Demo customer: {customer.name} ({customer.uuid})")
        self.stdout.write(f"Demo project:  {project.name} ({project.uuid})")
        self.stdout.write(f"Staff user:    demo-staff / {DEMO_PASSWORD} (admin at /admin/)")
        self.stdout.write(f"API token:     {token}")

    def extra_seeders(self):
        """Seeders of other apps (the marketplace's demo offering, say), listed in settings.DEMO_SEEDERS."""
        from django.conf import settings
        from django.utils.module_loading import import_string

        return [import_string(path) for path in getattr(settings, "DEMO_SEEDERS", [])]
