"""Writes of the catalogue: offerings, their components and plans. Provider owners and operators only."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from common.exceptions import InvalidTransition, PermissionDenied, ValidationFailed
from common.updates import update_fields
from common.validation import MAX_BIGINT
from federation.models import Customer, User
from marketplace.models import BillingType, Offering, OfferingComponent, OfferingState, Plan, PlanComponent, PlanUnit
from marketplace.permissions import can_manage_offering

from ..processors import capabilities
from .validation import check_offering_capabilities, validate_options_schema

OFFERING_FIELDS = (
    "name",
    "description",
    "terms_of_service",
    "terms_of_service_link",
    "options",
    "auto_approve",
    "type",
)
COMPONENT_FIELDS = (
    "name",
    "description",
    "measured_unit",
    "billing_type",
    "limit_period",
    "min_value",
    "max_value",
    "default_limit",
)

# Allowed offering state changes: {action: (from states, to state)}.
OFFERING_TRANSITIONS = {
    "activate": ((OfferingState.DRAFT, OfferingState.PAUSED), OfferingState.ACTIVE),
    "pause": ((OfferingState.ACTIVE,), OfferingState.PAUSED),
    "unpause": ((OfferingState.PAUSED,), OfferingState.ACTIVE),
    "archive": ((OfferingState.DRAFT, OfferingState.ACTIVE, OfferingState.PAUSED), OfferingState.ARCHIVED),
}
# PlanComponent.price is DecimalField(max_digits=16, decimal_places=6).
MAX_PRICE = Decimal(10) ** 10


def _require_manager(actor: User, customer: Customer) -> None:
    if not can_manage_offering(actor, customer):
        raise PermissionDenied("Only the owners of the provider organisation may manage its offerings.")


def _clean_offering_fields(fields: dict) -> dict:
    values = {k: v for k, v in fields.items() if k in OFFERING_FIELDS and v is not None}
    if "name" in values and not str(values["name"]).strip():
        raise ValidationFailed("This field may not be blank.", field="name")
    if "type" in values and not str(values["type"]).strip():
        raise ValidationFailed("This field may not be blank.", field="type")
    if "options" in values:
        values["options"] = validate_options_schema(values["options"])
    return values


def _check_component(spec: dict) -> dict:
    kind = spec.get("type")
    if not kind or not isinstance(kind, str):
        raise ValidationFailed("Each component needs a type key.", field="components")
    values = {k: spec[k] for k in COMPONENT_FIELDS if spec.get(k) is not None}
    values.setdefault("name", kind)
    if values.get("billing_type", BillingType.LIMIT) not in BillingType.values:
        raise ValidationFailed(
            f"{kind}: billing_type must be one of {', '.join(BillingType.values)}.", field="components"
        )
    for key in ("min_value", "max_value", "default_limit"):
        value = values.get(key)
        if value is not None and not (isinstance(value, int) and 0 <= value <= MAX_BIGINT):
            raise ValidationFailed(f"{kind}: {key} must be an integer from 0 to {MAX_BIGINT}.", field="components")
    low, high, default = values.get("min_value"), values.get("max_value"), values.get("default_limit")
    if low is not None and high is not None and low > high:
        raise ValidationFailed(f"{kind}: min_value must not exceed max_value.", field="components")
    if default is not None and ((low is not None and default < low) or (high is not None and default > high)):
        raise ValidationFailed(f"{kind}: default_limit must lie within min_value and max_value.", field="components")
    return values


def offering_components_upsert(*, actor: User | None, offering: Offering, components: list[dict]) -> None:
    """Add components, or change those whose type exists; components are never removed (resources refer to them)."""
    if actor is not None:
        _require_manager(actor, offering.customer)
    with transaction.atomic():
        for spec in components:
            values = _check_component(spec)
            OfferingComponent.objects.update_or_create(offering=offering, type=spec["type"], defaults=values)


def offering_create(
    *,
    actor: User | None,
    customer: Customer,
    name: str,
    components: list[dict] | None = None,
    plans: list[dict] | None = None,
    **fields,
) -> Offering:
    """A new offering in draft, with its components and plans; `activate` publishes it."""
    if actor is not None:
        _require_manager(actor, customer)
    values = _clean_offering_fields({**fields, "name": name})
    with transaction.atomic():
        offering = Offering.objects.create(customer=customer, **values)
        offering_components_upsert(actor=None, offering=offering, components=components or [])
        for plan in plans or []:
            plan_create(actor=None, offering=offering, **plan)
    return offering


def offering_update(*, actor: User | None, offering: Offering, **fields) -> Offering:
    if actor is not None:
        _require_manager(actor, offering.customer)
    update_fields(offering, **_clean_offering_fields(fields))
    return offering


@transaction.atomic
def offering_change_state(*, actor: User | None, offering: Offering, action: str) -> Offering:
    """`activate`, `pause`, `unpause` or `archive`; only active offerings take orders."""
    offering = Offering.objects.select_for_update().select_related("customer").get(pk=offering.pk)
    if actor is not None:
        _require_manager(actor, offering.customer)
    sources, target = OFFERING_TRANSITIONS[action]
    if offering.state not in sources:
        raise InvalidTransition(f"Cannot {action} the offering: it is {offering.state}.")
    if target == OfferingState.ACTIVE:
        check_offering_capabilities(offering, offering.components.all(), capabilities(offering))
    offering.state = target
    offering.save(update_fields=["state", "modified"])
    return offering


def _plan_prices(offering: Offering, prices: dict | None, quotas: dict | None) -> dict[str, tuple]:
    components = {c.type: c for c in offering.components.all()}
    result = {}
    for field, mapping in (("prices", prices or {}), ("quotas", quotas or {})):
        if not isinstance(mapping, dict):
            raise ValidationFailed("Expected an object {component_type: value}.", field=field)
        for key, value in mapping.items():
            if key not in components:
                raise ValidationFailed(f"{key}: not a component of this offering.", field=(field, key))
            try:
                number = Decimal(str(value)) if field == "prices" else int(value)
            except (InvalidOperation, ValueError, TypeError):
                raise ValidationFailed(f"{key}: expected a number.", field=(field, key)) from None
            if field == "prices" and not number.is_finite():
                raise ValidationFailed(f"{key}: expected a number.", field=(field, key))
            if number < 0:
                raise ValidationFailed(f"{key}: must not be negative.", field=(field, key))
            if not (number <= MAX_BIGINT if field == "quotas" else number < MAX_PRICE):
                bound = f"at most {MAX_BIGINT}" if field == "quotas" else f"less than {MAX_PRICE:.0f}"
                raise ValidationFailed(f"{key}: must be {bound}.", field=(field, key))
            price, amount = result.get(key, (None, None))
            result[key] = (number, amount) if field == "prices" else (price, number)
    return {key: (components[key], price, amount) for key, (price, amount) in result.items()}


def _save_prices(plan: Plan, priced: dict) -> None:
    for component, price, amount in priced.values():
        defaults = {}
        if price is not None:
            defaults["price"] = price
        if amount is not None:
            defaults["amount"] = amount
        PlanComponent.objects.update_or_create(plan=plan, component=component, defaults=defaults)


def plan_create(
    *,
    actor: User | None,
    offering: Offering,
    name: str,
    description: str = "",
    unit: str = PlanUnit.MONTH,
    prices: dict | None = None,
    quotas: dict | None = None,
) -> Plan:
    """A plan with a price (`prices`) and an included amount (`quotas`) per component type."""
    if actor is not None:
        _require_manager(actor, offering.customer)
    if not (name or "").strip():
        raise ValidationFailed("This field may not be blank.", field="name")
    if unit not in PlanUnit.values:
        raise ValidationFailed(f"Use one of {', '.join(PlanUnit.values)}.", field="unit")
    priced = _plan_prices(offering, prices, quotas)
    with transaction.atomic():
        plan = Plan.objects.create(offering=offering, name=name.strip(), description=description or "", unit=unit)
        _save_prices(plan, priced)
    return plan


def plan_update(*, actor: User | None, plan: Plan, **fields) -> Plan:
    if actor is not None:
        _require_manager(actor, plan.offering.customer)
    if "name" in fields and not (fields["name"] or "").strip():
        raise ValidationFailed("This field may not be blank.", field="name")
    if fields.get("unit") is not None and fields["unit"] not in PlanUnit.values:
        raise ValidationFailed(f"Use one of {', '.join(PlanUnit.values)}.", field="unit")
    priced = _plan_prices(plan.offering, fields.get("prices"), fields.get("quotas"))
    changes = {key: fields[key] for key in ("name", "description", "unit") if fields.get(key) is not None}
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    with transaction.atomic():
        update_fields(plan, **changes)
        _save_prices(plan, priced)
    return plan


def plan_archive(*, actor: User | None, plan: Plan) -> Plan:
    """Archived plans take no new orders; resources on them keep them."""
    if actor is not None:
        _require_manager(actor, plan.offering.customer)
    if plan.archived:
        raise InvalidTransition("The plan is already archived.")
    plan.archived = True
    plan.save(update_fields=["archived"])
    return plan
