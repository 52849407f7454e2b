"""Checks of order inputs against the catalogue: the offering's options schema, component limits, cost.

The options schema is a small typed subset of Waldur's offering options:

    {"order": ["partition", "gpus"],
     "options": {"partition": {"type": "enum", "label": "Partition", "choices": ["cpu", "gpu"], "default": "cpu"},
                 "gpus": {"type": "integer", "min": 0, "max": 8, "required": true},
                 "storage_class": {"type": "string", "max_length": 40},
                 "backup": {"type": "boolean", "default": false}}}

Types: string (alias text), integer, boolean, enum (alias select_string, with `choices`). Keys: required,
default, label, help_text, min / max (integer), max_length (string). `name` and `description` are always
accepted as order attributes; `name` is required on create orders (it names the resource).
"""

from __future__ import annotations

from decimal import Decimal

from common.exceptions import ValidationFailed
from common.validation import MAX_BIGINT
from marketplace.models import BillingType, OfferingComponent, Plan

OPTION_TYPES = {"string": "string", "text": "string", "integer": "integer", "boolean": "boolean", "enum": "enum"}
OPTION_TYPES["select_string"] = "enum"
OPTION_KEYS = {
    "type",
    "label",
    "help_text",
    "required",
    "default",
    "min",
    "max",
    "max_length",
    "choices",
    "requires_feature",
}
RESERVED_ATTRIBUTES = {"name": 150, "description": 2000}
# Bounds of an options schema: it is stored with the offering and shown on every order form.
MAX_OPTIONS = 50
MAX_OPTION_NAME = 50
MAX_CHOICES = 100
TEXT_BOUNDS = {"label": 150, "help_text": 1000, "requires_feature": 200}
STRING_MAX_LENGTH = 10000  # the largest max_length a string option may declare
STRING_DEFAULT_MAX_LENGTH = 1000  # a string option without max_length takes at most this
# Order.cost is DecimalField(max_digits=22, decimal_places=6).
MAX_COST = Decimal(10) ** 16


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _schema_error(message: str):
    return ValidationFailed(message, field="options")


def _attribute_error(name: str, text: str):
    """An error about one order attribute; its path (`attributes.<name>`) is what forms and the API go by."""
    return ValidationFailed(f"{name}: {text}", field=("attributes", name))


def _limit_error(key: str, text: str):
    """An error about one component's limit, at `limits.<key>`."""
    return ValidationFailed(f"{key}: {text}", field=("limits", key))


def validate_options_schema(schema) -> dict:
    """The schema itself, checked when an offering is saved; returns it normalised ({} when empty)."""
    if schema in (None, ""):
        return {}
    if not isinstance(schema, dict) or not isinstance(schema.get("options", {}), dict):
        raise _schema_error('Expected {"order": [names], "options": {name: {"type": ...}}}.')
    options = schema.get("options", {})
    if len(options) > MAX_OPTIONS:
        raise _schema_error(f"At most {MAX_OPTIONS} options.")
    order = schema.get("order", list(options))
    if not isinstance(order, list) or len(order) > len(options) or set(order) - set(options):
        raise _schema_error('"order" must list names defined in "options".')
    for name, spec in options.items():
        if len(name) > MAX_OPTION_NAME:
            raise _schema_error(f"{name[:MAX_OPTION_NAME]}…: option names have at most {MAX_OPTION_NAME} characters.")
        if name in RESERVED_ATTRIBUTES:
            raise _schema_error(f"{name}: reserved; every order may carry it.")
        if not isinstance(spec, dict) or spec.get("type") not in OPTION_TYPES:
            raise _schema_error(f"{name}: type must be one of {', '.join(sorted(OPTION_TYPES))}.")
        unknown = set(spec) - OPTION_KEYS
        if unknown:
            raise _schema_error(f"{name}: unknown keys {', '.join(sorted(unknown))}.")
        kind = OPTION_TYPES[spec["type"]]
        if kind == "enum":
            _check_choices(name, spec.get("choices"))
        if "requires_feature" in spec and not isinstance(spec["requires_feature"], str):
            raise _schema_error(f"{name}: requires_feature must be a feature path such as compute.virtualMachine.vnc.")
        for key, max_length in TEXT_BOUNDS.items():
            if key in spec and not (isinstance(spec[key], str) and len(spec[key]) <= max_length):
                raise _schema_error(f"{name}: {key} must be a string of at most {max_length} characters.")
        for bound in ("min", "max"):
            if bound in spec and not (_is_int(spec[bound]) and abs(spec[bound]) <= MAX_BIGINT):
                raise _schema_error(f"{name}: {bound} must be an integer of at most {MAX_BIGINT} in size.")
        if "max_length" in spec and not (_is_int(spec["max_length"]) and 0 < spec["max_length"] <= STRING_MAX_LENGTH):
            raise _schema_error(f"{name}: max_length must be an integer from 1 to {STRING_MAX_LENGTH}.")
        if "default" in spec:
            try:
                _check_value(name, spec, spec["default"])
            except ValidationFailed as exc:
                raise _schema_error(f"default of {exc.message}") from None
    return {"order": order, "options": options}


def _check_choices(name: str, choices) -> None:
    """Enum choices: a non-empty list of at most MAX_CHOICES short strings or integers."""
    if not (isinstance(choices, list) and 0 < len(choices) <= MAX_CHOICES):
        raise _schema_error(f"{name}: an enum needs a non-empty list of at most {MAX_CHOICES} choices.")
    for choice in choices:
        text = isinstance(choice, str) and len(choice) <= TEXT_BOUNDS["label"]
        number = _is_int(choice) and abs(choice) <= MAX_BIGINT
        if not (text or number):
            raise _schema_error(
                f"{name}: each choice must be a string of at most {TEXT_BOUNDS['label']} characters or an integer."
            )


def _check_value(name: str, spec: dict, value):
    kind = OPTION_TYPES[spec["type"]]
    if kind == "string":
        if not isinstance(value, str):
            raise _attribute_error(name, "expected a string.")
        max_length = spec.get("max_length", STRING_DEFAULT_MAX_LENGTH)
        if len(value) > max_length:
            raise _attribute_error(name, f"at most {max_length} characters.")
    elif kind == "integer":
        if not _is_int(value) or abs(value) > MAX_BIGINT:
            raise _attribute_error(name, f"expected an integer of at most {MAX_BIGINT} in size.")
        if "min" in spec and value < spec["min"]:
            raise _attribute_error(name, f"must be at least {spec['min']}.")
        if "max" in spec and value > spec["max"]:
            raise _attribute_error(name, f"must be at most {spec['max']}.")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _attribute_error(name, "expected true or false.")
    elif value not in spec["choices"]:
        choices = ", ".join(map(str, spec["choices"]))
        raise _attribute_error(name, f"{value!r} is not one of {choices}.")
    return value


def unavailable_options(schema: dict, caps) -> dict[str, str]:
    """Options whose `requires_feature` the site does not enable: {option: feature}."""
    if caps is None:
        return {}
    options = (schema or {}).get("options", {})
    return {
        name: spec["requires_feature"]
        for name, spec in options.items()
        if spec.get("requires_feature") and not caps.feature_enabled(spec["requires_feature"])
    }


def visible_options(schema: dict, caps) -> dict:
    """The schema as shown to people ordering: options the site cannot honour are left out."""
    hidden = unavailable_options(schema, caps)
    if not hidden or not schema:
        return schema
    options = {k: v for k, v in schema.get("options", {}).items() if k not in hidden}
    return {"order": [k for k in schema.get("order", []) if k not in hidden], "options": options}


def check_offering_capabilities(offering, components, caps) -> None:
    """An offering can be activated only if its site accounts for every component and enables every
    feature its options need."""
    if caps is None:
        return
    missing = sorted(c.type for c in components if not caps.accounts_for(c.type))
    if missing:
        raise ValidationFailed(
            f"The provider cannot account for {', '.join(missing)}: its manifest does not list them.",
            field="components",
        )
    hidden = unavailable_options(offering.options, caps)
    if hidden:
        needs = ", ".join(f"{name} needs {feature}" for name, feature in sorted(hidden.items()))
        raise ValidationFailed(f"The provider's manifest does not enable: {needs}.", field="options")


def validate_attributes(schema: dict, attributes, *, require_name: bool, caps=None) -> dict:
    """Order attributes checked against the offering's options; defaults filled in, unknown keys refused.

    Options needing a feature the site does not enable are neither accepted nor defaulted."""
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise ValidationFailed("Expected an object of option values.", field="attributes")
    options = (schema or {}).get("options", {})
    unknown = set(attributes) - set(options) - set(RESERVED_ATTRIBUTES)
    if unknown:
        names = sorted(unknown)
        field = ("attributes", names[0]) if len(names) == 1 else "attributes"
        raise ValidationFailed(f"{', '.join(names)}: not an option of this offering.", field=field)
    cleaned = {}
    for key, max_length in RESERVED_ATTRIBUTES.items():
        value = attributes.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value.strip()) > max_length:
            raise _attribute_error(key, f"expected a string of at most {max_length} characters.")
        cleaned[key] = value.strip()
    if require_name and not cleaned.get("name"):
        raise _attribute_error("name", "required; it names the new resource.")
    hidden = unavailable_options(schema, caps)
    for name in sorted(set(attributes) & set(hidden)):
        raise _attribute_error(name, f"needs {hidden[name]}, which this offering's provider does not enable.")
    for name, spec in options.items():
        if name in hidden:
            continue
        if attributes.get(name) is not None:
            cleaned[name] = _check_value(name, spec, attributes[name])
        elif "default" in spec:
            cleaned[name] = spec["default"]
        elif spec.get("required"):
            raise _attribute_error(name, "required.")
    return cleaned


def validate_limits(components: list[OfferingComponent], limits) -> dict[str, int]:
    """Limits for limit-billed components only, each within min/max; missing ones take the default limit."""
    if limits is None:
        limits = {}
    if not isinstance(limits, dict):
        raise ValidationFailed("Expected an object {component_type: amount}.", field="limits")
    by_type = {c.type: c for c in components}
    cleaned = {}
    for key, value in limits.items():
        component = by_type.get(key)
        if component is None:
            known = ", ".join(sorted(by_type)) or "none"
            raise _limit_error(key, f"not a component of this offering (components: {known}).")
        if component.billing_type != BillingType.LIMIT:
            raise _limit_error(key, f"billed by {component.billing_type}; only limit-billed components take limits.")
        if not _is_int(value) or not 0 <= value <= MAX_BIGINT:
            raise _limit_error(key, f"expected a non-negative integer, at most {MAX_BIGINT}.")
        if component.min_value is not None and value < component.min_value:
            raise _limit_error(key, f"must be at least {component.min_value}.")
        if component.max_value is not None and value > component.max_value:
            raise _limit_error(key, f"must be at most {component.max_value}.")
        cleaned[key] = value
    for component in components:
        if component.billing_type != BillingType.LIMIT or component.type in cleaned:
            continue
        if component.default_limit is None:
            raise _limit_error(component.type, "required (the component has no default limit).")
        cleaned[component.type] = component.default_limit
    return cleaned


def estimate_cost(plan: Plan | None, limits: dict[str, int]) -> Decimal | None:
    """Price per plan unit: limit-billed components at their limit, fixed and one-time ones at the plan amount.

    Usage-billed components are not known in advance and are left out. A cost too large for the
    order's column is refused, naming the limits (or the plan, when its fixed amounts make it so).
    """
    if plan is None:
        return None
    by_limits = fixed = Decimal(0)
    for price in plan.components.select_related("component"):
        billing = price.component.billing_type
        if billing == BillingType.LIMIT:
            by_limits += price.price * limits.get(price.component.type, 0)
        elif billing in (BillingType.FIXED, BillingType.ONE):
            fixed += price.price * price.amount
    total = by_limits + fixed
    if total >= MAX_COST:
        field = "limits" if by_limits >= fixed else "plan"
        raise ValidationFailed(
            f"The order would cost {total:.0f} per {plan.unit}; costs must stay below {MAX_COST:.0f}.", field=field
        )
    return total
