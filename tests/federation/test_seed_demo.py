"""`manage.py seed_demo` (what `make run` calls): the accounts the README and docs/marketplace.md use."""

import io

from django.core.management import call_command

from federation import identity
from federation.demo import DEMO_CUID, DEMO_PASSWORD
from federation.models import Customer, RoleGrant, RoleName, User
from marketplace.models import Offering, OfferingState


def seed(tmp_path) -> str:
    out = io.StringIO()
    call_command("seed_demo", token_file=str(tmp_path / "token"), stdout=out)
    return out.getvalue()


def owners(customer_name: str) -> set[str]:
    grants = RoleGrant.objects.active().filter(customer__name=customer_name, role__name=RoleName.CUSTOMER_OWNER)
    return set(grants.values_list("user__username", flat=True))


def test_seed_demo_makes_the_documented_accounts_and_runs_again(db, tmp_path):
    printed = seed(tmp_path)
    seed(tmp_path)  # safe to run again

    for username in ("demo-staff", "allocator", "researcher", "provider-owner"):
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD), username
    allocator = User.objects.get(username="allocator")
    assert allocator.is_identity_manager and not (allocator.is_staff or allocator.is_support)
    assert owners("Demo University") == {"demo-staff", "allocator"}
    assert owners("Demo Computing Centre") == {"provider-owner"}
    assert Customer.objects.filter(name__startswith="Demo").count() == 2
    assert identity.user_from_cuid(actor=allocator, cuid=DEMO_CUID).username == "researcher"

    reviewed = Offering.objects.get(name="HPC allocation")
    assert (reviewed.customer.name, reviewed.state, reviewed.auto_approve) == (
        "Demo Computing Centre",
        OfferingState.ACTIVE,
        False,
    )
    assert Offering.objects.get(name="Demo HPC allocation").auto_approve
    assert Offering.objects.count() == 2
    assert "allocator" in printed and DEMO_CUID in printed and DEMO_PASSWORD in printed
