"""Writes of invoicing: recompute a customer's month, close a month.

    pending ──invoices_close──▶ created (frozen)

A pending invoice is recomputed from scratch whenever usage or orders of its month change (the beat
task `accounting.recompute_invoices`); recomputing replaces its items in one transaction with the
same rows, uuids included, for the same inputs. Closing a month recomputes each pending invoice
one last time and freezes it: a recompute leaves a created invoice alone. Usage reported for a
closed month stays on the usage rows and is listed for staff (`selectors.usage_after_close`); it is
not added to the frozen invoice.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.exceptions import InvalidTransition, ValidationFailed
from common.wakeups import wake_after_commit
from federation.models import Customer

from . import selectors
from .models import Invoice, InvoiceItem, InvoiceState
from .pricing import lines_for_month


def _check_month(year: int, month: int) -> None:
    if not 1 <= month <= 12:
        raise ValidationFailed("Month must be between 1 and 12.", field="month")
    if not 2000 <= year <= 9999:
        raise ValidationFailed("Year must be between 2000 and 9999.", field="year")


def _items(invoice: Invoice, *, year: int, month: int) -> list[InvoiceItem]:
    inputs = selectors.month_inputs(customer_id=invoice.customer_id, year=year, month=month)
    items = []
    for billed in inputs.resources:
        resource = billed.resource
        usage = inputs.usage.get(resource.id, {})
        for line in lines_for_month(billed.lifetime, inputs.terms, usage, year, month):
            if not line.quantity:
                continue
            key = f"{resource.id}:{line.component_type}:{line.billing_type}:{line.start}:{line.plan_id}"
            items.append(
                InvoiceItem(
                    uuid=uuid.uuid5(invoice.uuid, key),
                    invoice=invoice,
                    resource=resource,
                    component_type=line.component_type,
                    billing_type=line.billing_type,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    unit=line.unit,
                    start=line.start,
                    end=line.end,
                    price=line.price,
                    project_name=resource.project.name,
                    project_uuid=resource.project.uuid,
                    resource_name=resource.name,
                    offering_name=resource.offering.name,
                    plan_name=inputs.terms[line.plan_id].plan_name,
                )
            )
    return items


def invoice_recompute(*, customer: Customer, year: int, month: int) -> Invoice:
    """Price the customer's month again and replace the pending invoice's items; a closed invoice is left as it is.

    Idempotent: the same resources, orders, plans and usage give the same items (their uuids are
    derived from the invoice, resource, component, billing type, start and plan).
    """
    _check_month(year, month)
    with transaction.atomic():
        invoice, _ = Invoice.objects.select_for_update().get_or_create(
            customer=customer, year=year, month=month, defaults={"currency": settings.CURRENCY}
        )
        if invoice.state != InvoiceState.PENDING:
            return invoice
        items = _items(invoice, year=year, month=month)
        InvoiceItem.objects.filter(invoice=invoice).delete()
        InvoiceItem.objects.bulk_create(items, batch_size=1000)
        invoice.total = sum((item.price for item in items), start=Decimal(0))
        invoice.currency = settings.CURRENCY
        invoice.save(update_fields=["total", "currency", "modified"])
    return invoice


RECOMPUTE_WAKE_KEY = "accounting:invoices-recompute-wake"


def invoices_wake_recompute(*, resource_ids: set[int], months: set[date]) -> None:
    """A usage listener: after the batch commits, queue a recompute of the invoices it changed.

    One run stands for every batch committed before it starts (the wake key), so a stream of
    batches costs a recompute every few seconds, not one per batch; beat runs it too.
    """
    from ..tasks import recompute_invoices

    wake_after_commit(recompute_invoices, key=RECOMPUTE_WAKE_KEY)


def invoices_recompute_due(*, today: date | None = None) -> int:
    """Recompute this and last month's pending invoices whose usage or orders changed since; returns how many."""
    today = today or timezone.localdate()
    done = 0
    for year, month in _open_months(today):
        for customer in Customer.objects.filter(id__in=selectors.customers_to_recompute(year=year, month=month)):
            invoice_recompute(customer=customer, year=year, month=month)
            done += 1
    return done


def _open_months(today: date) -> list[tuple[int, int]]:
    previous = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return [previous, (today.year, today.month)]


def invoices_close(*, year: int, month: int, today: date | None = None) -> int:
    """Close a month that has ended: recompute each customer's pending invoice once more and freeze it.

    Each customer is closed in its own transaction, so a run that stops half way is finished by the
    next one; closed invoices are skipped. Returns the number of invoices closed by this call.
    """
    _check_month(year, month)
    today = today or timezone.localdate()
    if (year, month) >= (today.year, today.month):
        raise InvalidTransition(f"{year}-{month:02d} has not ended yet; only past months can be closed.", field="month")
    closed = 0
    frozen = Invoice.objects.filter(year=year, month=month, state=InvoiceState.CREATED).values("customer_id")
    customers = Customer.objects.filter(id__in=selectors.customers_of_month(year=year, month=month))
    for customer in customers.exclude(id__in=frozen):
        with transaction.atomic():
            invoice = invoice_recompute(customer=customer, year=year, month=month)
            if invoice.state == InvoiceState.PENDING:
                invoice.state = InvoiceState.CREATED
                invoice.save(update_fields=["state", "modified"])
                closed += 1
    return closed


def invoices_close_previous_month(*, today: date | None = None) -> int:
    """Close last month; once it is closed this costs three queries."""
    today = today or timezone.localdate()
    year, month = _open_months(today)[0]
    return invoices_close(year=year, month=month, today=today)
