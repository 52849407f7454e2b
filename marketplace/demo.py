"""The demo catalogue seeded by `manage.py seed_demo` (portal/management/commands/seed_demo.py).

Two offerings: "Demo HPC allocation" of Demo University, run by the demo site agent and approving itself
(the README's walk-through), and "HPC allocation" of Demo Computing Centre, whose owner `provider-owner`
reviews and completes each order by hand (the walk-through in docs/marketplace.md).
"""

from federation.demo import demo_customer, demo_owner, demo_user

from . import services
from .models import Offering, OfferingState

DEMO_OFFERING = "Demo HPC allocation"
REVIEWED_OFFERING = "HPC allocation"
PROVIDER_CENTRE = "Demo Computing Centre"


def seed_demo_offering(*, staff, customer, project, stdout) -> Offering:
    """The offering of the demo site agent; it approves its orders itself."""
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
            components=demo_components(cpu_k_hours_max=10000),
            plans=[{"name": "Standard", "unit": "month", "prices": {"cpu_k_hours": "10", "storage_tb": "5"}}],
        )
    offering = activated(offering, actor=staff)
    stdout.write(f"Demo offering: {offering.name} ({offering.uuid})")
    return offering


def seed_reviewed_offering(*, staff, customer, project, stdout) -> Offering:
    """A provider organisation whose owner reviews and completes orders by hand, and its offering."""
    centre = demo_customer(actor=staff, name=PROVIDER_CENTRE, abbreviation="DCC", email="hpc@example.org")
    owner = demo_user(username="provider-owner", full_name="Demo Provider Owner", email="hpc-owner@example.org")
    demo_owner(actor=staff, customer=centre, user=owner)
    offering = Offering.objects.filter(customer=centre, name=REVIEWED_OFFERING).first()
    if offering is None:
        offering = services.offering_create(
            actor=staff,
            customer=centre,
            name=REVIEWED_OFFERING,
            description="CPU and storage; the centre reviews each order.",
            type="manual",
            auto_approve=False,
            terms_of_service="Acknowledge the centre in your publications.",
            components=demo_components(cpu_k_hours_max=1000),
            plans=[{"name": "Standard", "unit": "month", "prices": {"cpu_k_hours": "2", "storage_tb": "5"}}],
        )
    offering = activated(offering, actor=staff)
    stdout.write(f"Reviewed offering: {offering.name} ({offering.uuid}) of {centre.name}, owner {owner.username}")
    return offering


def demo_components(*, cpu_k_hours_max: int) -> list[dict]:
    """CPU k-hours and storage, both limit-billed over the resource's lifetime."""
    limit = {"billing_type": "limit", "limit_period": "total"}
    return [
        {"type": "cpu_k_hours", "name": "CPU k-hours", "measured_unit": "k-hours", **limit, "min_value": 1}
        | {"max_value": cpu_k_hours_max, "default_limit": 10},
        {"type": "storage_tb", "name": "Storage", "measured_unit": "TB", **limit, "min_value": 0}
        | {"max_value": 100, "default_limit": 1},
    ]


def activated(offering: Offering, *, actor) -> Offering:
    if offering.state != OfferingState.ACTIVE:
        offering = services.offering_change_state(actor=actor, offering=offering, action="activate")
    return offering
