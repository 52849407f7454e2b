"""The demo catalogue seeded by `manage.py seed_demo` (listed in settings.DEMO_SEEDERS)."""

from . import services
from .models import Offering, OfferingState

DEMO_OFFERING = "Demo HPC allocation"


def seed_demo_offering(*, staff, customer, project, stdout) -> Offering:
    offering = Offering.objects.filter(customer=customer, name=DEMO_OFFERING).first()
    if offering is None:
        offering = services.offering_create(
            actor=staff,
            customer=customer,
            name=DEMO_OFFERING,
            description="CPU and storage on the demo site.",
            type="Marketplace.Slurm",
            auto_approve=True,  # the demo site takes orders without a provider review
            options={
                "order": ["partition"],
                "options": {"partition": {"type": "enum", "choices": ["cpu", "gpu"], "default": "cpu"}},
            },
            components=[
                {
                    "type": "cpu_k_hours",
                    "name": "CPU k-hours",
                    "measured_unit": "k-hours",
                    "billing_type": "limit",
                    "limit_period": "total",
                    "min_value": 1,
                    "max_value": 10000,
                    "default_limit": 10,
                },
                {
                    "type": "storage_tb",
                    "name": "Storage",
                    "measured_unit": "TB",
                    "billing_type": "limit",
                    "limit_period": "total",
                    "min_value": 0,
                    "max_value": 100,
                    "default_limit": 1,
                },
            ],
            plans=[{"name": "Standard", "unit": "month", "prices": {"cpu_k_hours": "10", "storage_tb": "5"}}],
        )
    if offering.state != OfferingState.ACTIVE:
        offering = services.offering_change_state(actor=staff, offering=offering, action="activate")
    stdout.write(f"Demo offering: {offering.name} ({offering.uuid})")
    return offering
