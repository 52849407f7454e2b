"""How the portal writes things for people: roles and states by name, states in colour with their word,
amounts with their unit, money with the currency, and one date format that names the time zone."""

from datetime import date, datetime

from django import template
from django.utils import timezone

from common.formatting import money_text, plain_number, unit_price_text
from federation.models import RoleName
from marketplace.models import OrderState, ResourceState

register = template.Library()

ROLE_LABELS = {
    RoleName.CUSTOMER_OWNER: "Organisation owner",
    RoleName.CUSTOMER_SUPPORT: "Organisation support",
    RoleName.PROJECT_ADMIN: "Project admin",
    RoleName.PROJECT_MANAGER: "Project manager",
    RoleName.PROJECT_MEMBER: "Project member",
}

# A state's tone is its colour; the state's own word is always printed next to it.
TONES = {
    OrderState.PENDING_CONSUMER: "wait",
    OrderState.PENDING_PROVIDER: "wait",
    OrderState.EXECUTING: "busy",
    OrderState.DONE: "good",
    OrderState.ERRED: "bad",
    OrderState.REJECTED: "bad",
    OrderState.CANCELED: "off",
    ResourceState.CREATING: "busy",
    ResourceState.UPDATING: "busy",
    ResourceState.TERMINATING: "busy",
    ResourceState.OK: "good",
    ResourceState.ERRED: "bad",
    ResourceState.TERMINATED: "off",
}


@register.filter
def role_label(name) -> str:
    """`PROJECT.MANAGER` → "Project manager"; an unknown name is shown as it is."""
    return ROLE_LABELS.get(name, name)


@register.filter
def state_tone(state) -> str:
    return TONES.get(state, "off")


@register.filter
def when(value) -> str:
    """A moment in the portal's one format, in the site's time zone, named: "14 Mar 2027, 13:05 UTC"."""
    if not isinstance(value, datetime):
        return "—"
    local = timezone.localtime(value)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"


@register.filter
def day(value) -> str:
    """A day in the same format: "14 Mar 2027"."""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    if not isinstance(value, date):
        return "—"
    return f"{value.day} {value:%b %Y}"


@register.filter
def long_day(value) -> str:
    """A day written out, for sentences: "14 March 2027"."""
    return f"{value.day} {value:%B %Y}" if isinstance(value, date) else "—"


@register.filter
def quantity(amount, unit="") -> str:
    """An amount with its unit: "250 k-hours"; "—" for none."""
    if amount is None or amount == "":
        return "—"
    return f"{plain_number(amount)} {unit}".strip()


money = register.filter("money", money_text)
unit_price = register.filter("unit_price", unit_price_text)


PERIODS = {
    "month": "per month",
    "quarter": "per quarter",
    "quarterly": "per quarter",
    "annual": "per year",
    "total": "for the resource's life",
}


@register.filter
def limit_period(name) -> str:
    """A component's limit period for people: "per quarter", "for the resource's life"."""
    return PERIODS.get(name, name)
