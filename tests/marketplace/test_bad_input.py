"""Bad input to the marketplace API is a 400 naming the field and changes nothing (never a 500).

NUL characters in JSON values, numbers past 64 bits or past what a decimal column holds, an
order whose cost overflows its column, texts past their bounds, oversized options schemas.
"""

import json
from decimal import Decimal

import pytest

from common.exceptions import ValidationFailed
from common.validation import MAX_BIGINT
from marketplace import services
from marketplace.models import Offering, OfferingComponent, Order, Plan, PlanComponent, Resource, StateChange
from tests.factories import OfferingComponentFactory, PlanComponentFactory

OFFERINGS = "/api/marketplace-offerings/"
PLANS = "/api/marketplace-plans/"
ORDERS = "/api/marketplace-orders/"
RESOURCES = "/api/marketplace-resources/"
TOO_BIG = 2**63


def snapshot():
    """What a refused request must leave as it was."""
    return {
        "orders": list(Order.objects.values_list("id", "state", "attributes", "limits", "error_message")),
        "resources": list(Resource.objects.values_list("id", "state", "limits")),
        "state_changes": StateChange.objects.count(),
        "offerings": list(Offering.objects.values_list("id", "description", "options", "terms_of_service")),
        "components": list(OfferingComponent.objects.values_list("id", "min_value", "max_value", "default_limit")),
        "plans": list(Plan.objects.values_list("id", "description")),
        "prices": list(PlanComponent.objects.values_list("id", "price", "amount")),
    }


def post_json(api, url, body):
    """A raw JSON body, so that values DRF's own encoder would not send (1e400) can be sent."""
    return api.post(url, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


def order_body(project, offering, plan, **overrides):
    body = {
        "project": f"http://testserver/api/projects/{project.uuid}/",
        "offering": f"http://testserver/api/marketplace-offerings/{offering.uuid}/",
        "plan": f"http://testserver/api/marketplace-plans/{plan.uuid}/",
        "attributes": {"name": "My allocation"},
        "limits": {"cpu_k_hours": 100, "storage_tb": 2},
    }
    body.update(overrides)
    return body


def assert_refused(response, field, fragment, before):
    assert response.status_code == 400, (response.status_code, response.content[:500])
    assert fragment in str(response.json()[field]), response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"attributes": {"name": "a\u0000b"}}, "attributes", "name: NUL characters"),
        ({"attributes": {"name": "x", "\u0000": 1}}, "attributes", "NUL character"),
        ({"attributes": {"name": "x", "nested": {"deep": ["ok", "\u0000"]}}}, "attributes", "nested.deep[1]: NUL"),
        ({"limits": {"cpu_k_hours": TOO_BIG}}, "limits", f"at most {MAX_BIGINT}"),
        ({"limits": {"cpu_k_hours": 10**30}}, "limits", f"at most {MAX_BIGINT}"),
        ({"limits": "[]"}, "limits", "Expected an object"),
    ],
)
def test_order_create_refuses_what_the_database_cannot_hold(
    api, manager, project, offering, plan, overrides, field, fragment
):
    before = snapshot()
    response = api.as_user(manager).post(ORDERS, order_body(project, offering, plan, **overrides), format="json")
    assert_refused(response, field, fragment, before)


def test_non_finite_numbers_in_json_values_are_refused(api, manager, project, offering, plan):
    before = snapshot()
    body = json.dumps(order_body(project, offering, plan)).replace('"My allocation"}', '"My allocation", "x": 1e400}')
    response = post_json(api.as_user(manager), ORDERS, body)
    assert_refused(response, "attributes", "valid JSON", before)


def test_cost_overflowing_its_column_is_refused_naming_the_limits(api, manager, project, offering, plan):
    """cpu_k_hours has no maximum here: 2 per unit × 2^62 units cannot be stored as the order's cost."""
    offering.components.filter(type="cpu_k_hours").update(max_value=None)
    PlanComponent.objects.filter(plan=plan, component__type="cpu_k_hours").update(price=Decimal("9999999999"))
    before = snapshot()
    body = order_body(project, offering, plan, limits={"cpu_k_hours": 2**62, "storage_tb": 1})
    response = api.as_user(manager).post(ORDERS, body, format="json")
    assert_refused(response, "limits", "costs must stay below", before)


def test_cost_overflow_from_a_plans_fixed_amounts_names_the_plan(api, manager, project, offering, plan):
    fixed = OfferingComponentFactory(offering=offering, type="licence", billing_type="fixed", limit_period="")
    PlanComponentFactory(plan=plan, component=fixed, price=Decimal("9999999999"), amount=2**62)
    before = snapshot()
    response = api.as_user(manager).post(ORDERS, order_body(project, offering, plan), format="json")
    assert_refused(response, "plan", "costs must stay below", before)


def test_update_limits_past_64_bits(api, manager, ok_resource):
    before = snapshot()
    response = api.as_user(manager).post(
        f"{RESOURCES}{ok_resource.uuid}/update_limits/", {"limits": {"storage_tb": TOO_BIG}}, format="json"
    )
    assert_refused(response, "limits", f"at most {MAX_BIGINT}", before)


@pytest.mark.parametrize(
    ("attributes", "fragment"),
    [({"reason": "gone\u0000"}, "reason: NUL characters"), ({"\u0000": "x"}, "NUL character")],
)
def test_terminate_attributes_with_nul(api, manager, ok_resource, attributes, fragment):
    before = snapshot()
    response = api.as_user(manager).post(
        f"{RESOURCES}{ok_resource.uuid}/terminate/", {"attributes": attributes}, format="json"
    )
    assert_refused(response, "attributes", fragment, before)


def test_terminate_attributes_with_an_infinite_number(api, manager, ok_resource):
    before = snapshot()
    response = post_json(
        api.as_user(manager), f"{RESOURCES}{ok_resource.uuid}/terminate/", '{"attributes": {"x": 1e999}}'
    )
    assert_refused(response, "attributes", "valid JSON", before)


OPTIONS_WITH_NUL = [
    {"options": {"partition": {"type": "enum", "choices": ["cpu", "g\u0000pu"]}}},
    {"options": {"partition": {"type": "string", "label": "\u0000"}}},
    {"options": {"part\u0000ition": {"type": "string"}}},
]


@pytest.mark.parametrize("options", OPTIONS_WITH_NUL)
def test_offering_options_with_nul(api, provider_owner, offering, options):
    before = snapshot()
    response = api.as_user(provider_owner).patch(f"{OFFERINGS}{offering.uuid}/", {"options": options}, format="json")
    assert_refused(response, "options", "NUL", before)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"options": {"p": {"type": "enum", "choices": [str(n) for n in range(101)]}}}, "at most 100 choices"),
        ({"options": {"p": {"type": "enum", "choices": ["x" * 151]}}}, "each choice must be a string of at most 150"),
        ({"options": {"p": {"type": "enum", "choices": [{"a": 1}]}}}, "each choice must be"),
        ({"options": {"p": {"type": "string", "label": "x" * 151}}}, "label must be a string of at most 150"),
        ({"options": {"p": {"type": "string", "help_text": "x" * 1001}}}, "help_text must be a string"),
        ({"options": {"p": {"type": "string", "max_length": 10**6}}}, "max_length must be an integer from 1"),
        ({"options": {"p": {"type": "integer", "max": TOO_BIG}}}, "max must be an integer of at most"),
        ({"options": {"x" * 51: {"type": "string"}}}, "option names have at most 50 characters"),
        ({"options": {f"o{n}": {"type": "boolean"} for n in range(51)}}, "At most 50 options"),
    ],
)
def test_offering_options_schema_is_bounded(api, provider_owner, offering, options, fragment):
    before = snapshot()
    response = api.as_user(provider_owner).patch(f"{OFFERINGS}{offering.uuid}/", {"options": options}, format="json")
    assert_refused(response, "options", fragment, before)


def test_string_options_without_max_length_take_at_most_1000_characters(api, manager, project, offering, plan):
    offering.options = {"options": {"comment": {"type": "string"}}}
    offering.save()
    before = snapshot()
    attributes = {"name": "x", "comment": "y" * 1001}
    response = api.as_user(manager).post(
        ORDERS, order_body(project, offering, plan, attributes=attributes), format="json"
    )
    assert_refused(response, "attributes", "comment: at most 1000 characters", before)


def test_integer_option_values_past_64_bits(api, manager, project, offering, plan):
    offering.options = {"options": {"nodes": {"type": "integer"}}}
    offering.save()
    before = snapshot()
    attributes = {"name": "x", "nodes": TOO_BIG}
    response = api.as_user(manager).post(
        ORDERS, order_body(project, offering, plan, attributes=attributes), format="json"
    )
    assert_refused(response, "attributes", "nodes: expected an integer of at most", before)


@pytest.mark.parametrize("key", ["min_value", "max_value", "default_limit"])
def test_component_bounds_past_64_bits(api, provider_owner, offering, key):
    before = snapshot()
    component = {"type": "cpu_k_hours", key: TOO_BIG}
    response = api.as_user(provider_owner).post(
        f"{OFFERINGS}{offering.uuid}/update_components/", {"components": [component]}, format="json"
    )
    assert response.status_code == 400
    assert key in response.json()["components"]["0"], response.json()
    assert snapshot() == before


def test_new_offering_with_component_bound_past_64_bits(api, provider, provider_owner):
    before = snapshot()
    body = {
        "customer": f"http://testserver/api/customers/{provider.uuid}/",
        "name": "Big",
        "components": [{"type": "cpu", "max_value": TOO_BIG}],
    }
    response = api.as_user(provider_owner).post(OFFERINGS, body, format="json")
    assert response.status_code == 400 and "max_value" in response.json()["components"]["0"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"quotas": {"cpu_k_hours": TOO_BIG}}, "quotas"), ({"prices": {"cpu_k_hours": "1e12"}}, "prices")],
)
def test_plan_numbers_past_their_columns(api, provider_owner, offering, plan, overrides, field):
    before = snapshot()
    response = api.as_user(provider_owner).patch(f"{PLANS}{plan.uuid}/", overrides, format="json")
    assert response.status_code == 400 and "cpu_k_hours" in response.json()[field], response.json()
    create = {"offering": str(offering.uuid), "name": "Other", **overrides}
    response = api.as_user(provider_owner).post(PLANS, create, format="json")
    assert response.status_code == 400 and field in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("quotas", "prices", "fragment"),
    [
        ({"cpu_k_hours": TOO_BIG}, None, f"must be at most {MAX_BIGINT}"),
        (None, {"cpu_k_hours": "10000000000"}, "must be less than 10000000000"),
        (None, {"cpu_k_hours": "NaN"}, "expected a number"),
    ],
)
def test_plan_service_bounds_prices_and_quotas(provider_owner, plan, quotas, prices, fragment):
    before = snapshot()
    with pytest.raises(ValidationFailed, match=fragment):
        services.plan_update(actor=provider_owner, plan=plan, quotas=quotas, prices=prices)
    assert snapshot() == before


def test_component_service_bounds(provider_owner, offering):
    before = snapshot()
    with pytest.raises(ValidationFailed, match="max_value must be an integer from 0"):
        services.offering_components_upsert(
            actor=provider_owner, offering=offering, components=[{"type": "cpu_k_hours", "max_value": TOO_BIG}]
        )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "length"),
    [("description", 5001), ("terms_of_service", 20001), ("terms_of_service_link", 201)],
)
def test_offering_texts_are_bounded(api, provider_owner, offering, field, length):
    value = "https://example.org/" + "t" * (length - 20) if field.endswith("link") else "x" * length
    before = snapshot()
    response = api.as_user(provider_owner).patch(f"{OFFERINGS}{offering.uuid}/", {field: value}, format="json")
    assert_refused(response, field, "no more than", before)


def test_plan_description_is_bounded(api, provider_owner, plan):
    before = snapshot()
    response = api.as_user(provider_owner).patch(f"{PLANS}{plan.uuid}/", {"description": "x" * 2001}, format="json")
    assert_refused(response, "description", "no more than 2000", before)


@pytest.mark.parametrize(("field", "length"), [("error_message", 2001), ("error_traceback", 20001)])
def test_order_error_texts_are_bounded(api, provider_owner, order_in, field, length):
    from marketplace.models import OrderState

    order = order_in(OrderState.EXECUTING)
    body = {"error_message": "failed", field: "x" * length}
    before = snapshot()
    response = api.as_user(provider_owner).post(f"{ORDERS}{order.uuid}/set_state_erred/", body, format="json")
    assert_refused(response, field, "no more than", before)


def test_admin_offering_form_refuses_nul_in_options(offering):
    """The admin edits options through a model form: the model field carries the same validator."""
    from django.forms.models import model_to_dict

    from marketplace.admin import OfferingForm

    data = model_to_dict(offering)
    data["options"] = json.dumps({"options": {"partition": {"type": "enum", "choices": ["cpu", "g\u0000pu"]}}})
    form = OfferingForm(data=data, instance=offering)
    assert not form.is_valid()
    assert "NUL" in str(form.errors["options"])
    offering.refresh_from_db()
    assert offering.options == {}
