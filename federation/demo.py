"""The demo's people and organisations, seeded by `manage.py seed_demo` (what `make run` calls).

Every demo account has the password DEMO_PASSWORD, so the README and the marketplace walk-through run as
written against `make run`.
"""

from __future__ import annotations

from . import services
from .models import Customer, Role, RoleGrant, RoleName, User

DEMO_PASSWORD = "demo-password-change-me"
DEMO_CUID = "abc123@myaccessid.org"


def demo_user(*, username: str, full_name: str, email: str, **flags) -> User:
    """The demo user with this username; created with DEMO_PASSWORD when missing, left alone otherwise."""
    user, created = User.objects.get_or_create(
        username=username, defaults={"full_name": full_name, "email": email, **flags}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def demo_customer(*, actor: User, name: str, abbreviation: str, email: str) -> Customer:
    return Customer.objects.filter(name=name).first() or services.customer_create(
        actor=actor, name=name, abbreviation=abbreviation, email=email
    )


def demo_owner(*, actor: User, customer: Customer, user: User) -> None:
    """Make `user` an owner of `customer` unless they already are."""
    role = Role.objects.get(name=RoleName.CUSTOMER_OWNER)
    if not RoleGrant.objects.active().filter(user=user, role=role, customer=customer).exists():
        services.role_grant(actor=actor, scope=customer, user=user, role=role)


def seed_demo_people(*, staff: User, customer: Customer) -> dict[str, User]:
    """The allocator (owns the customer, looks people up by CUID) and a researcher known by a CUID."""
    allocator = demo_user(
        username="allocator", full_name="Demo Allocator", email="allocator@example.org", is_identity_manager=True
    )
    demo_owner(actor=staff, customer=customer, user=allocator)
    researcher = demo_user(
        username="researcher", full_name="Demo Researcher", email="researcher@example.org", cuid=DEMO_CUID
    )
    return {"allocator": allocator, "researcher": researcher}
