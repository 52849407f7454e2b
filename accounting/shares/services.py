"""Writes of shares: staff grant a customer a share, the customer's owners divide it into project shares.

Every write locks the customer share at the root of the tree it changes (`select_for_update`), as the
order check does, so a change to a tree and an order drawing from it never interleave. Rules:

- a customer share is granted and changed by staff only; two shares of one customer for the same
  offering component must not overlap in time;
- a project share is cut from a customer share of the project's own customer by its owners (or
  staff); it lies within the customer share's dates (a child outliving its parent is refused, not
  clipped), and all project shares of a customer share add up to at most its amount times
  `SHARE_OVERALLOCATION_FACTOR`;
- a customer share cannot be shrunk below what its project shares need by that rule, nor its
  dates narrowed past one of them.
"""

from __future__ import annotations

import uuid as uuid_lib
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from common.exceptions import Conflict, PermissionDenied, ValidationFailed
from common.loading import load_row
from events.services import event_record
from federation.models import Customer, Project, User
from federation.permissions import can_manage_customer, is_operator
from marketplace.models import Offering

from .arithmetic import children_fit
from .models import Share

ShareRef = Share | uuid_lib.UUID | str


def _factor() -> Decimal:
    return Decimal(str(settings.SHARE_OVERALLOCATION_FACTOR))


def _check_amount(amount) -> Decimal:
    if amount is None or not isinstance(amount, Decimal | int) or Decimal(amount) < 0:
        raise ValidationFailed("The amount must be a number, zero or more.", field="amount")
    return Decimal(amount)


def _check_dates(start_date: date, end_date: date) -> None:
    if end_date < start_date:
        raise ValidationFailed("The share must not end before it starts.", field="end_date")


def _check_within(child_start: date, child_end: date, parent: Share) -> None:
    if child_start < parent.start_date:
        raise ValidationFailed(
            f"The project share must not start before the customer share, on {parent.start_date.isoformat()}.",
            field="start_date",
        )
    if child_end > parent.end_date:
        raise ValidationFailed(
            f"The project share must not outlive the customer share, which ends on {parent.end_date.isoformat()}.",
            field="end_date",
        )


def _check_children_fit(parent_amount: Decimal, amounts: list[Decimal], *, field: str) -> None:
    factor = _factor()
    if not children_fit(parent_amount, amounts, factor):
        given = sum(amounts, start=Decimal(0))
        raise ValidationFailed(
            f"Project shares would add up to {given.normalize():f}, more than the customer share's "
            f"{parent_amount.normalize():f} × {factor.normalize():f} (the over-allocation factor).",
            field=field,
        )


def _check_no_overlap(share_id: int | None, *, customer_id, offering_id, component_type, start, end) -> None:
    others = Share.objects.roots().filter(
        customer_id=customer_id, offering_id=offering_id, component_type=component_type,
        start_date__lte=end, end_date__gte=start,
    ).exclude(id=share_id)  # fmt: skip
    clash = others.first()
    if clash is not None:
        raise Conflict(
            f"The customer already has a share of {component_type} in this offering from "
            f"{clash.start_date.isoformat()} to {clash.end_date.isoformat()}; shares of a customer must not overlap.",
            field="start_date",
        )


def _context(share: Share) -> dict:
    return {
        "offering_name": share.offering.name,
        "component_type": share.component_type,
        "amount": f"{share.amount.normalize():f}",
        "start_date": share.start_date.isoformat(),
        "end_date": share.end_date.isoformat(),
        "customer_name": share.customer.name,
        "project_name": share.project.name if share.project_id else "",
    }


def _record(event_type: str, share: Share, *, actor: User | None, message: str, **extra) -> None:
    scope = ("project", share.project.uuid) if share.project_id else ("customer", share.customer.uuid)
    event_record(
        event_type,
        scope=scope,
        actor=actor,
        message=message,
        context={**_context(share), **extra},
        customer=share.customer.uuid,
        offering=share.offering.uuid,
    )


def share_grant(
    *,
    actor: User | None,
    customer: Customer,
    offering: Offering,
    component_type: str,
    amount: Decimal,
    start_date: date,
    end_date: date,
) -> Share:
    """A customer share of an offering component (staff only); it must not overlap another of the same."""
    if actor is not None and not is_operator(actor):
        raise PermissionDenied("Only staff grant shares to customers.")
    amount = _check_amount(amount)
    _check_dates(start_date, end_date)
    if not offering.components.filter(type=component_type).exists():
        raise ValidationFailed(f"The offering has no component {component_type!r}.", field="component_type")
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)  # serialises overlapping grants
        _check_no_overlap(None, customer_id=customer.id, offering_id=offering.id, component_type=component_type,
                          start=start_date, end=end_date)  # fmt: skip
        share = Share.objects.create(
            offering=offering, component_type=component_type, customer=customer, amount=amount,
            start_date=start_date, end_date=end_date, created_by=actor,
        )  # fmt: skip
        _record("share_granted", share, actor=actor, message=f"Share of {component_type} granted to {customer.name}.")
    return share


def share_divide(
    *,
    actor: User | None,
    parent: ShareRef,
    project: Project,
    amount: Decimal,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Share:
    """A project share cut from a customer share by the customer's owners (or staff).

    Its dates default to the parent's and must lie within them; all project shares of the parent
    add up to at most the parent's amount times the over-allocation factor.
    """
    amount = _check_amount(amount)
    with transaction.atomic():
        parent = load_row(Share.objects.select_for_update().select_related("customer", "offering"), parent,
                          missing="Share not found.")  # fmt: skip
        if actor is not None and not can_manage_customer(actor, parent.customer):
            raise PermissionDenied("Only the customer's owners and staff divide its shares.")
        if parent.parent_id is not None:
            raise ValidationFailed("Project shares are cut from a customer's share, not from another project's.",
                                   field="parent")  # fmt: skip
        if project.customer_id != parent.customer_id:
            raise ValidationFailed("The project belongs to another customer than the share.", field="project")
        start_date, end_date = start_date or parent.start_date, end_date or parent.end_date
        _check_dates(start_date, end_date)
        _check_within(start_date, end_date, parent)
        siblings = list(parent.children.values_list("amount", flat=True))
        _check_children_fit(parent.amount, [*siblings, amount], field="amount")
        try:
            with transaction.atomic():
                share = Share.objects.create(
                    offering=parent.offering, component_type=parent.component_type, customer=parent.customer,
                    project=project, parent=parent, amount=amount, start_date=start_date, end_date=end_date,
                    created_by=actor,
                )  # fmt: skip
        except IntegrityError:
            raise Conflict("The project already has a share of this customer share; change that one.",
                           field="project") from None  # fmt: skip
        _record("share_granted", share, actor=actor,
                message=f"Share of {share.component_type} given to project {project.name}.")  # fmt: skip
    return share


def share_update(
    *,
    actor: User | None,
    share: ShareRef,
    amount: Decimal | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Share:
    """A new amount or dates for a share, under the rules of granting it (staff for a customer share,
    the customer's owners for a project share); a customer share keeps room for its project shares."""
    with transaction.atomic():
        rows = Share.objects.select_related("customer", "offering", "project")
        found = load_row(rows, share, missing="Share not found.")
        root = Share.objects.select_for_update().get(pk=found.parent_id or found.id)  # the tree's one lock
        share = Share.objects.get(pk=found.id) if found.parent_id else root  # read again under the lock
        share.customer, share.offering, share.project = found.customer, found.offering, found.project
        if actor is not None:
            allowed = is_operator(actor) if share.parent_id is None else can_manage_customer(actor, share.customer)
            if not allowed:
                raise PermissionDenied(
                    "Only staff change customer shares." if share.parent_id is None
                    else "Only the customer's owners and staff change its project shares."
                )  # fmt: skip
        new = {
            "amount": share.amount if amount is None else _check_amount(amount),
            "start_date": start_date or share.start_date,
            "end_date": end_date or share.end_date,
        }
        changed = sorted(name for name, value in new.items() if value != getattr(share, name))
        if not changed:
            return share
        _check_dates(new["start_date"], new["end_date"])
        if share.parent_id is None:
            _check_root_change(share, new)
        else:
            _check_within(new["start_date"], new["end_date"], root)
            siblings = list(root.children.exclude(id=share.id).values_list("amount", flat=True))
            _check_children_fit(root.amount, [*siblings, new["amount"]], field="amount")
        for name, value in new.items():
            setattr(share, name, value)
        share.save(update_fields=[*new, "modified"])
        _record("share_changed", share, actor=actor, message=f"Share of {share.component_type} changed.",
                changed=changed)  # fmt: skip
    return share


def _check_root_change(share: Share, new: dict) -> None:
    children = list(share.children.all())
    _check_no_overlap(share.id, customer_id=share.customer_id, offering_id=share.offering_id,
                      component_type=share.component_type, start=new["start_date"], end=new["end_date"])  # fmt: skip
    _check_children_fit(new["amount"], [child.amount for child in children], field="amount")
    for child in children:
        if child.start_date < new["start_date"] or child.end_date > new["end_date"]:
            raise ValidationFailed(
                f"A project share runs from {child.start_date.isoformat()} to {child.end_date.isoformat()}; "
                "the customer share must keep covering it (change that one first).",
                field="end_date" if child.end_date > new["end_date"] else "start_date",
            )
